#!/usr/bin/env bash
# One line describing the machine, for benchmark reports.
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "$(nproc) cores, ${cpu:-unknown CPU}, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), GStreamer $(pkg-config --modversion gstreamer-1.0 2>/dev/null || echo '?')"
