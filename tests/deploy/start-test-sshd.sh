#!/usr/bin/env bash
# Starts a throw-away OpenSSH server on 127.0.0.1 for trying `edgetune-cli device/deploy` by hand (as root):
#   tests/deploy/start-test-sshd.sh DIR [PORT]     -> prints the port; client key: DIR/client_key
#   kill "$(cat DIR/sshd.pid)"                     -> stops it
# The Qt tests do the same from C++ (tests/deploy/ssh_server.h).
set -euo pipefail
DIR="$(mkdir -p "$1" && cd "$1" && pwd)"
PORT="${2:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
mkdir -p /run/sshd
for k in host_key client_key; do
  [ -f "$DIR/$k" ] || ssh-keygen -q -t ed25519 -N '' -f "$DIR/$k" </dev/null >/dev/null
done
cp "$DIR/client_key.pub" "$DIR/authorized_keys"
cat > "$DIR/sshd_config" <<CFG
Port $PORT
ListenAddress 127.0.0.1
HostKey $DIR/host_key
AuthorizedKeysFile $DIR/authorized_keys
PidFile $DIR/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
CFG
/usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log"
echo "$PORT"
