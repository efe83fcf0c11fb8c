"""Run a command against a throw-away PostgreSQL server started from the machine's binaries.

initdb into a temporary folder, start on a free loopback port, export DATABASE_URL, run the
command, then stop the server and delete the folder, whatever the command's outcome.
Usage: python scripts/with_postgres.py -- COMMAND [ARGS...]
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def find_binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    sys.exit(
        f"with_postgres: `{name}` not found. Install PostgreSQL's server binaries "
        "(Debian: `apt-get install postgresql`) and run again."
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_server_user(argv: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root; run them as the `postgres` system user.
    if os.geteuid() != 0:
        return argv
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        sys.exit(
            "with_postgres: running as root needs the `postgres` system user "
            "(Debian package postgresql)."
        )
    return ["runuser", "-u", "postgres", "--", *argv]


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        sys.exit(__doc__)
    command = argv[argv.index("--") + 1 :]
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    root = tempfile.mkdtemp(prefix="desk-pg-")
    data = os.path.join(root, "data")
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(root, entry.pw_uid, entry.pw_gid)
    os.chmod(root, 0o755)  # noqa: S103 - the server user must reach its socket folder
    port = free_port()
    started = False
    try:
        subprocess.run(
            as_server_user(
                [initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        subprocess.run(
            as_server_user(
                [pg_ctl, "-D", data, "-o", options, "-l", os.path.join(root, "log"), "-w", "start"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        started = True
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        env = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/postgres")
        print(f"with_postgres: PostgreSQL ready on 127.0.0.1:{port} ({data})", flush=True)
        return subprocess.call(command, env=env)
    finally:
        if started:
            subprocess.run(
                as_server_user([pg_ctl, "-D", data, "-m", "fast", "-w", "stop"]),
                stdout=subprocess.DEVNULL,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
