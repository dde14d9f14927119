// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vireo-xcursor: what the X server shows as the pointer right now, as
 * XFixes reports it (the cursor a person sees, whichever window set it):
 *
 *   cursor WxH hot X,Y opaque=N
 *
 * N is the number of pixels that are not fully transparent: 0 for a
 * hidden pointer. The viewer's tests tell "no second pointer" with it.
 */
#include <stdio.h>

#include <X11/Xlib.h>
#include <X11/extensions/Xfixes.h>

int main(void)
{
	Display *d = XOpenDisplay(NULL);
	if (!d) {
		fprintf(stderr, "vireo-xcursor: cannot open the display (DISPLAY)\n");
		return 1;
	}
	int ev, err;
	if (!XFixesQueryExtension(d, &ev, &err)) {
		fprintf(stderr, "vireo-xcursor: the X server has no XFixes\n");
		return 1;
	}
	XFixesCursorImage *c = XFixesGetCursorImage(d);
	if (!c) {
		fprintf(stderr, "vireo-xcursor: XFixesGetCursorImage failed\n");
		return 1;
	}
	unsigned long opaque = 0;
	for (unsigned long i = 0; i < (unsigned long)c->width * c->height; i++)
		opaque += (c->pixels[i] >> 24) != 0;   /* unsigned long ARGB, one per pixel */
	printf("cursor %ux%u hot %u,%u opaque=%lu\n", c->width, c->height, c->xhot, c->yhot, opaque);
	XFree(c);
	XCloseDisplay(d);
	return 0;
}
