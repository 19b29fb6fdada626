#!/usr/bin/env bash
# Start a one-node SLURM cluster on localhost (munged, slurmctld, slurmd) from
# slurm.conf.in, as root, without systemd. Idempotent: a running cluster is left alone.
# Needs the Debian packages slurm-wlm and munge.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
spool=/var/spool/fpgen-slurm
mkdir -p "$spool/slurmd" "$spool/slurmctld" /etc/slurm /run/munge
if sinfo -h -o %T 2>/dev/null | grep -q idle; then
  exit 0
fi
cpus=$(nproc)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
sed -e "s|@CPUS@|$cpus|" -e "s|@MEMORY@|$memory|" -e "s|@SPOOL@|$spool|g" "$here/slurm.conf.in" >/etc/slurm/slurm.conf
# munged runs as the munge user with its key (the package makes one)
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --force 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd -N localhost
for _ in $(seq 1 60); do
  if sinfo -h -o %T 2>/dev/null | grep -q idle; then
    sinfo
    exit 0
  fi
  sleep 1
done
echo "SLURM did not come up; logs:" >&2
tail -n 30 "$spool/slurmctld.log" "$spool/slurmd.log" >&2 || true
exit 1
