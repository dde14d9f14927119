// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <glib.h>

#include "emuhost_hooks.h"
#include "emuhost_l1.h"
#include "emuhost_screenshot.h"

/* ---- the connections ---- */

static struct emuhost_conn *hooks_conn(struct emuhost_hooks *h, uint64_t id)
{
	for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++)
		if (h->conns[ch] && h->conns[ch]->id == id)
			return h->conns[ch];
	return NULL;
}

/* The control connection whose filter ctl is: its id. */
static uint64_t hooks_ctl_id(const struct emuhost_ctl *ctl)
{
	return ((const struct emuhost_conn *)((const char *)ctl - offsetof(struct emuhost_conn, ctl)))->id;
}

/* A command the hooks took, answered: the client hears it in its turn. */
static void hooks_answer(struct emuhost_hooks *h, uint64_t ctl_id, uint32_t ticket, const char *text)
{
	struct emuhost_conn *cc = hooks_conn(h, ctl_id);
	if (cc && cc->kind == EMUHOST_CONN_CONTROL && emuhost_ctl_answer(&cc->ctl, ticket, text) == 0 &&
	    emuhost_conn_pump_up(cc))
		(void)emuhost_conn_pump_down(cc);
}

/* ---- screenshot PATH ---- */

struct hooks_shot {
	struct emuhost_hooks *h;
	uint64_t ctl_id;
	uint32_t ticket;
	char *path;
	int64_t deadline;
	bool timed_out;
};

static void hooks_shot_done(void *opaque, struct emuhost_conn *c)
{
	struct hooks_shot *s = opaque;
	/* A client that went gets no file either. */
	if (hooks_conn(s->h, s->ctl_id)) {
		g_autofree char *reply = emuhost_screenshot_reply(&c->shot, s->timed_out ? -ETIMEDOUT : -ECONNRESET,
								  s->path);
		hooks_answer(s->h, s->ctl_id, s->ticket, reply);
		s->h->shots++;
	}
	g_free(s->path);
	g_free(s);
}

static enum emuhost_ctl_route hooks_screenshot(struct emuhost_hooks *h, struct emuhost_ctl *ctl, uint32_t ticket,
					       const char *path, char **text)
{
	if (!*path) {
		*text = g_strdup("error usage: screenshot PATH");
		return EMUHOST_CTL_ANSWER;
	}
	int ch = h->closed ? -ESHUTDOWN : emuhost_link_open(h->link, EMUX_EP_CONSOLE);
	if (ch < 0) {
		*text = g_strdup_printf("error the emulated host cannot take a picture now: %s", g_strerror(-ch));
		return EMUHOST_CTL_ANSWER;
	}
	struct hooks_shot *s = g_new0(struct hooks_shot, 1);
	s->h = h;
	s->ctl_id = hooks_ctl_id(ctl);
	s->ticket = ticket;
	s->path = g_strdup(path);
	s->deadline = g_get_monotonic_time() / 1000 + EMUHOST_SCREENSHOT_TIMEOUT_MS;
	if (!emuhost_conn_new_shot(h->link, &h->conns[ch], (unsigned)ch, hooks_shot_done, s)) {
		g_free(s->path);
		g_free(s);
		*text = g_strdup("error out of memory for the picture");
		return EMUHOST_CTL_ANSWER;
	}
	return EMUHOST_CTL_LATER;
}

int64_t emuhost_hooks_deadline(const struct emuhost_hooks *h)
{
	int64_t next = INT64_MAX;
	for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++) {
		const struct emuhost_conn *c = h->conns[ch];
		if (c && c->kind == EMUHOST_CONN_SHOT && c->shot_done)
			next = MIN(next, ((const struct hooks_shot *)c->shot_opaque)->deadline);
	}
	return next;
}

void emuhost_hooks_expire(struct emuhost_hooks *h, int64_t now_ms)
{
	for (unsigned ch = 1; ch <= EMUX_CHANNELS_MAX; ch++) {
		struct emuhost_conn *c = h->conns[ch];
		if (!c || c->kind != EMUHOST_CONN_SHOT || !c->shot_done)
			continue;
		struct hooks_shot *s = c->shot_opaque;
		if (now_ms >= s->deadline) {
			s->timed_out = true;
			emuhost_conn_close(c, ETIMEDOUT);
		}
	}
}

/* ---- save DIR ---- */

/* text with the folder inside L1 named as DIR. */
static char *hooks_save_words(const struct emuhost_hooks *h, const char *text)
{
	const char *at = strstr(text, EMUHOST_L1_SAVEDIR);
	if (!at)
		return g_strdup(text);
	return g_strdup_printf("%.*s%s%s", (int)(at - text), text, h->save.dir, at + strlen(EMUHOST_L1_SAVEDIR));
}

static void hooks_save_over(struct emuhost_hooks *h)
{
	g_clear_pointer(&h->save_reply, g_free);
	emuhost_save_clear(&h->save);
	h->saving = false;
}

/* Answered once both the worker's reply and the files are in. */
static void hooks_save_answer(struct emuhost_hooks *h)
{
	if (!h->save_reply || !h->files_in)
		return;
	g_autofree char *text = h->save_result == 0
					? g_strdup(h->save_reply)
					: g_strdup_printf("error the state was saved inside the emulated host, but not to %s: %s",
							  h->save.dir, g_strerror(-h->save_result));
	hooks_answer(h, h->save_ctl, h->save_ticket, text);
	h->saves++;
	hooks_save_over(h);
}

static void hooks_save_end(struct emuhost_hooks *h, int error)
{
	h->files_in = true;
	h->save_result = error < 0 ? error : emuhost_save_commit(&h->save);
	/* The worker's reply was lost on its way out (it ended right after): ours. */
	if (!h->save_reply)
		h->save_reply = g_strdup_printf("ok saved %s", h->save.dir);
	hooks_save_answer(h);
}

void emuhost_hooks_file(struct emuhost_hooks *h, const struct emux_msg *m)
{
	if (!h->saving || h->files_in) {
		h->link->stats.bad++;
		return;
	}
	emuhost_save_msg(&h->save, m);
	if (m->type == EMUX_MSG_FILES_END)
		hooks_save_end(h, 0);
}

void emuhost_hooks_worker_ended(struct emuhost_hooks *h)
{
	h->closed = true;
	if (h->saving && !h->files_in)
		hooks_save_end(h, -ECONNRESET);
}

static void hooks_reply(void *opaque, struct emuhost_ctl *ctl, uint32_t ticket, const char *line)
{
	struct emuhost_hooks *h = opaque;
	if (!h->saving || ticket != h->save_ticket || hooks_ctl_id(ctl) != h->save_ctl) {
		(void)emuhost_ctl_answer(ctl, ticket, line);
		return;
	}
	g_autofree char *words = hooks_save_words(h, line);
	if (!g_str_has_prefix(line, "ok")) {
		/* The worker goes on as it was: nothing comes. */
		(void)emuhost_ctl_answer(ctl, ticket, words);
		hooks_save_over(h);
		return;
	}
	g_free(h->save_reply);
	h->save_reply = g_steal_pointer(&words);
	hooks_save_answer(h);
}

static enum emuhost_ctl_route hooks_save(struct emuhost_hooks *h, struct emuhost_ctl *ctl, uint32_t ticket,
					 const char *dir, char **text)
{
	if (h->saving) {
		*text = g_strdup("error a save is under way already");
		return EMUHOST_CTL_ANSWER;
	}
	int e = emuhost_save_begin(&h->save, dir, h->memory + EMUHOST_SAVE_EXTRA_MAX);
	if (e < 0) {
		*text = g_strdup_printf("error saving to %s: %s", dir, g_strerror(-e));
		return EMUHOST_CTL_ANSWER;
	}
	h->saving = true;
	h->files_in = false;
	h->save_result = 0;
	h->save_ctl = hooks_ctl_id(ctl);
	h->save_ticket = ticket;
	*text = g_strdup("save " EMUHOST_L1_SAVEDIR);
	return EMUHOST_CTL_REWRITE;
}

static enum emuhost_ctl_route hooks_command(void *opaque, struct emuhost_ctl *ctl, uint32_t ticket, const char *line,
					    char **text)
{
	struct emuhost_hooks *h = opaque;
	/* As the worker reads it: "save", one space, DIR; without one its usage answers. */
	if (g_str_has_prefix(line, "save ") && line[5])
		return hooks_save(h, ctl, ticket, line + 5, text);
	const char *path = emuhost_screenshot_path(line);
	return path ? hooks_screenshot(h, ctl, ticket, path, text) : EMUHOST_CTL_PASS;
}

const struct emuhost_ctl_hooks emuhost_hooks_ctl = {
	.command = hooks_command,
	.reply = hooks_reply,
};

void emuhost_hooks_init(struct emuhost_hooks *h, struct emuhost_link *link, struct emuhost_conn **conns,
			uint64_t memory)
{
	*h = (struct emuhost_hooks){ .link = link, .conns = conns, .memory = memory };
}

void emuhost_hooks_clear(struct emuhost_hooks *h)
{
	hooks_save_over(h);
}
