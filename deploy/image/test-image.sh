#!/usr/bin/env bash
# `make image-test`: builds the production image, then proves that it starts as the
# Kubernetes manifests run it (user 10001, read-only root, a writable /var/lib/esp):
# `espd --version` prints this commit; /healthz, a token and one generation answer; the
# pages (/ui/, /dashboard/) are served.
# With `podman run` where it works; elsewhere (a sandbox without user namespaces) in the
# image's own filesystem under chroot, mounted read-only.
set -euo pipefail
cd "$(dirname "$0")/../.."
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
image=$(deploy/image/build-image.sh | tail -1)
work=$(mktemp -d /var/tmp/esp-image-test.XXXXXX)
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port=$(free_port); grpc_port=$(free_port)
base="http://127.0.0.1:$http_port"
mkdir -m 0700 "$work/data" && chown 10001:10001 "$work/data"
# The image's own environment, with loopback addresses for this test.
mapfile -t image_env < <(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" | grep .)
test_env=(ESP_HTTP_ADDR="127.0.0.1:$http_port" ESP_GRPC_ADDR="127.0.0.1:$grpc_port")

pid=""; container=""; root=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  if [[ -d $work/root ]]; then
    for mounted in proc dev var/lib/esp ""; do umount "$work/root/$mounted" 2>/dev/null || true; done
  fi
  if [[ -n $container ]]; then
    buildah umount "$container" >/dev/null 2>&1 || true
    buildah rm "$container" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

container=$(buildah from --pull=never "$image")
root=$(buildah mount "$container")
if [[ -n ${CA_BUNDLE:-} ]]; then
  # The build trusted the bundle (it could not reach npm otherwise behind such a proxy);
  # no file of the image may hold what it adds. Each certificate is known by its first
  # line; those the image's own ca-certificates package ships (a bundle is often the
  # system's, with the proxy's authority added) are public and expected there.
  mapfile -t markers < <(awk '/-----BEGIN/ {getline; print}' "$CA_BUNDLE")
  extra=0
  for marker in "${markers[@]}"; do
    grep -rqsF -- "$marker" "$root/usr/share/ca-certificates" && continue
    extra=$((extra + 1))
    if grep -rqsF -- "$marker" "$root"; then
      echo "image-test: a certificate of the extra CA bundle ($CA_BUNDLE) is inside the image" >&2
      exit 1
    fi
  done
  echo "image-test: none of the bundle's $extra certificates beyond the public roots is in the image"
fi

if podman run --rm --network=none "$image" --version >/dev/null 2>&1; then
  echo "image-test: running $image with podman"
  espd=(podman run --rm -i --network=host --read-only --user 10001:10001
        -v "$work/data:/var/lib/esp" "${test_env[@]/#/--env=}" "$image")
else
  echo "image-test: podman run is not possible here; running $image under chroot"
  mkdir "$work/root"
  mount --bind "$root" "$work/root"
  mount -o remount,bind,ro "$work/root"
  mount --bind "$work/data" "$work/root/var/lib/esp"
  mount -t proc proc "$work/root/proc"
  mount --bind /dev "$work/root/dev"  # the device nodes only, none of the host's submounts
  espd=(env -i "${image_env[@]}" "${test_env[@]}"
        chroot --userspec=10001:10001 "$work/root" /usr/local/bin/espd)
fi

version=$("${espd[@]}" --version)
echo "image-test: $version"
[[ $version == *"$commit"* ]] || { echo "image-test: --version does not name commit $commit" >&2; exit 1; }
printf 'image-test-password\n' | "${espd[@]}" users add tester@example.com --scopes "esp:read esp:write" >/dev/null
"${espd[@]}" > "$work/espd.log" 2>&1 &  # env and chroot exec: $! is espd
pid=$!
for _ in $(seq 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$base/healthz"; echo
token=$(curl -fsS "$base/auth" -H 'Content-Type: application/json' \
  -d '{"email":"tester@example.com","password":"image-test-password"}' \
  | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
curl -fsS "$base/v1/experiments" "${auth[@]}" \
  -d "{\"id\": \"image-test\", \"params\": $(cat tests/fixtures/experiment.json)}" >/dev/null
operation=$(curl -fsS -X POST "$base/v1/experiments/image-test/generations" "${auth[@]}" \
  | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
answer=$(curl -fsS "$base/v1/operations/$operation?wait=50" "${auth[@]}")
status=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["status"])' "$answer")
[[ $status == succeeded ]] || { echo "image-test: generation $status: $answer" >&2; cat "$work/espd.log" >&2; exit 1; }
echo "image-test: generation 1 succeeded: $answer"
# Without a representation the candidates are KerasNN .h5 files (libhdf5 in the image).
h5_params=$(/usr/bin/python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); p["LEAF"].pop("representation"); print(json.dumps({"params": p}))' tests/fixtures/experiment.json)
operation=$(curl -fsS -X POST "$base/v1/experiments/image-h5/generations" "${auth[@]}" -d "$h5_params" \
  | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
checkpoint=$(curl -fsS "$base/v1/operations/$operation?wait=50" "${auth[@]}" \
  | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["checkpoint_id"])')
magic=$(curl -fsS "$base/v1/experiments/image-h5/checkpoints/$checkpoint" "${auth[@]}" \
  | /usr/bin/python3 -c 'import base64,json,sys; print(base64.b64decode(json.load(sys.stdin)["population"][0]["interpretation"])[:8].hex())')
[[ $magic == 894844460d0a1a0a ]] || { echo "image-test: KerasNN candidate is not an HDF5 file: $magic" >&2; exit 1; }
echo "image-test: a KerasNN generation holds HDF5 files"
# The image carries its pages: Swagger UI and the dashboard with ECharts.
for page in ui/ dashboard/ dashboard/dashboard.js dashboard/echarts.min.js; do
  curl -fsS -o /dev/null "$base/$page" || { echo "image-test: /$page is not served" >&2; exit 1; }
done
echo "image-test: /ui/ and /dashboard/ are served"
kill -TERM "$pid"; wait "$pid"; pid=""
echo "image-test: passed ($image)"
