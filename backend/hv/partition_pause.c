// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pausing a partition: the vCPU threads leave KVM_RUN (a kick) and wait on a
 * condition variable until resumed or stopped. Guest memory and devices stay
 * as they are, so a paused guest can be resumed, saved or turned off.
 */
#include "hv/partition.h"
#include "hv/vcpu.h"

void partition_vcpu_park(struct partition *p)
{
	pthread_mutex_lock(&p->pause_lock);
	p->vcpus_parked++;
	pthread_cond_broadcast(&p->pause_cond);
	while (p->pause_requested && partition_stopped(p) == PARTITION_RUNNING)
		pthread_cond_wait(&p->pause_cond, &p->pause_lock);
	p->vcpus_parked--;
	pthread_mutex_unlock(&p->pause_lock);
}

void partition_pause(struct partition *p)
{
	pthread_mutex_lock(&p->pause_lock);
	__atomic_store_n(&p->pause_requested, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->pause_lock);
	for (unsigned i = 0; i < p->ncpus; i++)
		vcpu_kick(&p->vcpus[i]);
	pthread_mutex_lock(&p->pause_lock);
	while (p->vcpus_parked < p->ncpus && partition_stopped(p) == PARTITION_RUNNING &&
	       p->pause_requested)
		pthread_cond_wait(&p->pause_cond, &p->pause_lock);
	pthread_mutex_unlock(&p->pause_lock);
}

void partition_resume(struct partition *p)
{
	pthread_mutex_lock(&p->pause_lock);
	__atomic_store_n(&p->pause_requested, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&p->pause_cond);
	pthread_mutex_unlock(&p->pause_lock);
}

bool partition_is_paused(struct partition *p)
{
	pthread_mutex_lock(&p->pause_lock);
	bool paused = p->pause_requested;
	pthread_mutex_unlock(&p->pause_lock);
	return paused;
}
