# SPDX-License-Identifier: GPL-2.0-or-later
# video: the synthetic video device through the guest's own hyperv_fb. The
# host side is scenarios/video.host:
#  1. the guest waits for /dev/fb0, reports the framebuffer (vireo-fbtool
#     info), the Hyper-V video PCI device and its BAR0, where hyperv_fb put
#     VRAM (/proc/iomem) and hyperv_fb's kernel messages;
#  2. it draws pattern 7 over the whole screen and prints "VIREO-READY video"
#     (the host takes a screenshot and checks every pixel);
#  3. the host's KVP record VireoVideo=rect makes it draw pattern 99 in the
#     rectangle 100,50 200x120 only, then "VIREO-READY rect" (a second
#     screenshot must show it: the change reached the host as damage);
#  4. VireoVideo=reload: it unloads hyperv_fb (the channel closes), loads it
#     again (a new probe on a reopened channel), draws pattern 3 and prints
#     "VIREO-READY reload". With VRAM in guest RAM it only draws pattern 3
#     (reload=kept): 6.1's hyperv_fb cannot be unloaded safely then;
#  The drawing goes through "vireo-fbtool serve", one mapping of /dev/fb0
#  that is not unmapped while hyperv_fb runs (see vireo-fbtool.c: with VRAM
#  in guest RAM, unmapping frees pages under the driver).
#  5. the host's shutdown request ends it.
# Guard: 300 s without a shutdown fails.
. /lib/vireo.sh

RECT="100 50 200 120"
RECT_SEED=99

# hyperv_fb probes when the channel is offered, after hv_vmbus connected
i=0
while [ ! -e /dev/fb0 ] && [ $i -lt 60 ]; do
	sleep 0.5
	i=$((i + 1))
done
dmesg | grep -E 'hyperv_fb|hv_vmbus: hv_mmio|hv_vmbus: .*fb' | sed 's/^/VIREO-LOG /' >> "$VIREO_OUT"
if [ ! -e /dev/fb0 ]; then
	result fb no
	fail "no /dev/fb0 after 30 s (hyperv_fb did not bind)"
	exit 1
fi
result fb yes

# xres=W yres=H bpp=B stride=S id=NAME smem=0xADDR smem_len=N, one result each
info=$(vireo-fbtool info) || { fail "vireo-fbtool info failed"; exit 1; }
echo "VIREO-LOG fb0: $info" >> "$VIREO_OUT"
for kv in $info; do
	result "${kv%%=*}" "${kv#*=}"
done
v=$(dmesg | sed -n 's/.*hyperv_fb: Synthvid Version major \([0-9]*\), minor \([0-9]*\).*/\1.\2/p' | tail -n 1)
result synthvid_version "${v:-none}"
# hyperv_fb first tries contiguous guest RAM, and says so when it falls back
if dmesg | grep -q 'hyperv_fb: Unable to allocate enough contiguous'; then
	vram_in=mmio
else
	vram_in=ram
fi
result vram_in $vram_in

# The legacy video PCI device hyperv_fb needs on a non-EFI boot, and its BAR0
pci=none
bar0=none
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor" 2>/dev/null):$(cat "$d/device" 2>/dev/null)" = "0x1414:0x5353" ] || continue
	pci="$(basename "$d") class=$(cat "$d/class")"
	read -r start end _flags < "$d/resource"
	bar0="$start-$end"
done
result pci_video "$pci"
result bar0 "$bar0"
# Who owns what in the VMBus window: the BAR, hv_vmbus' framebuffer claim, hyperv_fb
grep -iE 'f[89ab][0-9a-f]{6}-|0000:00:08|vmbus|hyperv' /proc/iomem | sed 's/^/VIREO-LOG iomem: /' >> "$VIREO_OUT"
# The resources that start where VRAM does, outermost first: the BAR, then
# hyperv_fb's claim (named after the channel's instance id)
smem=$(echo "$info" | sed -n 's/.* smem=0x\([0-9a-f]*\).*/\1/p')
owners=$(grep -E "^ *0*$smem-" /proc/iomem | sed 's/^[^:]*: //' | tr '\n' '>' | sed 's/>$//')
result iomem_vram "${owners:-none}"

# fbcon takes every new framebuffer (hyperv_fb probes asynchronously, so
# that may come after /dev/fb0) and draws the text console and its blinking
# cursor on it: wait for it, then take it off, or it would draw over the
# pattern. Sets fbcon to unbound, bind-failed or none (never bound in 10 s).
fbcon_off() {
	fbcon=none
	_i=0
	while [ $_i -lt 20 ]; do
		for c in /sys/class/vtconsole/vtcon*; do
			case "$(cat "$c/name" 2>/dev/null)" in
			*"frame buffer"*)
				[ "$(cat "$c/bind")" = 1 ] || continue
				echo 0 > "$c/bind" && fbcon=unbound || fbcon=bind-failed
				return ;;
			esac
		done
		sleep 0.5
		_i=$((_i + 1))
	done
}
fbcon_off
result fbcon "$fbcon"

# The drawing process: commands on a FIFO, answers in /tmp/fbout.
fb_serve_start() {
	rm -f /tmp/fbcmd /tmp/fbout
	mkfifo /tmp/fbcmd
	vireo-fbtool serve < /tmp/fbcmd > /tmp/fbout 2>&1 &
	FB_PID=$!
	exec 3> /tmp/fbcmd
	FB_SENT=0
}
# fb_cmd COMMAND...: run it, its answer line ("done ..." or "error ...")
# in FB_ANSWER. Not in a $(...) subshell: FB_SENT counts in this shell.
fb_cmd() {
	echo "$*" >&3
	FB_SENT=$((FB_SENT + 1))
	_i=0
	while [ "$(grep -cE '^(done|error) ' /tmp/fbout)" -lt $FB_SENT ] && [ $_i -lt 240 ]; do
		sleep 0.25
		_i=$((_i + 1))
	done
	FB_ANSWER=$(grep -E '^(done|error) ' /tmp/fbout | sed -n "${FB_SENT}p")
	case "$FB_ANSWER" in done*) return 0 ;; esac
	fail "vireo-fbtool serve: $* -> ${FB_ANSWER:-no answer}: $(grep -vE '^(done|error) ' /tmp/fbout | tail -n 2)"
	return 1
}
# Children started since (the KVP daemon) hold the FIFO open too: no EOF, so quit.
fb_serve_stop() {
	echo quit >&3
	exec 3>&-
	wait "$FB_PID"
}

fb_serve_start
fb_cmd pattern 7 || exit 1
result drawn "$FB_ANSWER"
echo "VIREO-READY video"

# The host's go for the rectangle arrives as a KVP record in pool 0.
kvp_guest_setup
kvp_daemon_start || fail "hv_kvp_daemon exited at start (status $KVP_RC)"
host_says() {
	[ -s /var/lib/hyperv/.kvp_pool_0 ] && kvp_records /var/lib/hyperv/.kvp_pool_0 | grep -qxF "VireoVideo=$1"
}
drawn_rect=0
reloaded=0
t=0
while [ $t -lt 600 ]; do
	if [ $drawn_rect = 0 ] && host_says rect; then
		# shellcheck disable=SC2086
		fb_cmd rect $RECT $RECT_SEED
		result rect "$FB_ANSWER"
		drawn_rect=1
		echo "VIREO-READY rect"
	fi
	# Asked once per turn: the daemon may rewrite its pool file between two
	# looks, and the two branches below must see the same answer.
	reload_asked=0
	[ $reloaded = 0 ] && host_says reload && reload_asked=1
	if [ $reload_asked = 1 ] && [ $vram_in = ram ]; then
		reloaded=1
		result reload kept
		fb_cmd pattern 3
		result drawn_again "$FB_ANSWER"
		echo "VIREO-READY reload"
	fi
	if [ $reload_asked = 1 ] && [ $vram_in != ram ]; then
		reloaded=1
		result reload done
		fb_serve_stop
		if out=$(rmmod hyperv_fb 2>&1); then
			result rmmod ok
		else
			result rmmod failed
			fail "rmmod hyperv_fb: $out"
		fi
		[ -e /dev/fb0 ] && fail "/dev/fb0 still there after rmmod"
		dmesg | grep -E 'Bad page|BUG:|WARNING:|page dumped|bad because' | sed 's/^/VIREO-LOG rmmod: /' >> "$VIREO_OUT"
		out=$(insmod /modules/hyperv_fb.ko 2>&1) || fail "insmod hyperv_fb: $out"
		i=0
		while [ ! -e /dev/fb0 ] && [ $i -lt 60 ]; do
			sleep 0.5
			i=$((i + 1))
		done
		fbcon_off
		result fbcon_reload "$fbcon"
		fb_serve_start
		fb_cmd pattern 3
		result drawn_again "$FB_ANSWER"
		echo "VIREO-READY reload"
	fi
	sleep 0.5
	t=$((t + 1))
done
fail "video: no shutdown request from the host within 300 s"
exit 1
