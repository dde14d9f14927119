# SPDX-License-Identifier: GPL-2.0-or-later
# stubborn: a guest that will not shut down. hv_utils takes the host's
# shutdown request, but the /sbin/poweroff it runs does nothing (see
# orderly_shutdown in /lib/vireo.sh), and no acpid listens for the power
# button. Only Turn Off ends it: vireod's Shut Down must get there by itself.
. /lib/vireo.sh

touch /tmp/vireo-ignore-shutdown
echo "VIREO-READY stubborn"
while :; do
	sleep 3600
done
