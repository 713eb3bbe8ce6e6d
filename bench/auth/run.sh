#!/usr/bin/env bash
# wrk against espd's GET /contents with an HS256 and with an RS256 token, against
# nginx `return 200`, and against the simple JWT app's stack (Flask + PyJWT under
# gunicorn, bench/peers/flask_jwt_app.py), all in the same run, alternating rounds.
# Usage: bench/auth/run.sh [seconds-per-round] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh "$@"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -f $work/espd.pids ]] && kill $(cat "$work/espd.pids") 2>/dev/null || true
  stop_nginx "$work"
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

secret=$(head -c 32 /dev/urandom | base64)
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rs256.pem" 2>/dev/null

# start_espd NAME ENV...: an espd with its own data folder and one user; prints its port.
# It runs in a $(...) subshell, so its pid goes to a file for cleanup, not to `pids`.
start_espd() {
  local name=$1; shift
  local port; port=$(free_port)
  mkdir -p "$work/$name"
  echo "bench-password" | env "$@" "$espd" --data-dir "$work/$name" users add bench@example.com >/dev/null
  env "$@" "$espd" --data-dir "$work/$name" --http-addr "127.0.0.1:$port" --grpc-addr 127.0.0.1:0 \
    --io-threads "$threads" --issuer "http://127.0.0.1:$port/" >"$work/$name.log" 2>&1 &
  echo $! >>"$work/espd.pids"
  wait_for_port "$port"
  echo "$port"
}

token_from() {
  curl -s -X POST "http://127.0.0.1:$1/auth" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-password"}' |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

hs_port=$(start_espd hs256 JWT_SECRET="$secret")
rs_port=$(start_espd rs256 ESP_SIGNING_KEYS="$work/rs256.pem")
hs_token=$(token_from "$hs_port")
rs_token=$(token_from "$rs_port")

nginx_port=$(free_port)
start_nginx "$work" "$nginx_port" "$threads"
flask_port=$(free_port)
JWT_SECRET="$secret" JWT_AUDIENCE=esp gunicorn -w "$threads" -b "127.0.0.1:$flask_port" \
  --chdir bench/peers flask_jwt_app:app >"$work/flask.log" 2>&1 &
pids+=($!)
wait_for_port "$nginx_port"
wait_for_port "$flask_port"
check() {  # check PORT TOKEN: GET /contents answers 200
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/contents" \
      -H "Authorization: Bearer $2") == 200 ]] || { echo "GET /contents on port $1 failed" >&2; exit 1; }
}
check "$hs_port" "$hs_token"; check "$rs_port" "$rs_token"; check "$flask_port" "$hs_token"

hs=(); rs=(); ng=(); fl=()
for round in $(seq 1 "$rounds"); do
  hs+=("$(rps "http://127.0.0.1:$hs_port/contents" -H "Authorization: Bearer $hs_token")")
  rs+=("$(rps "http://127.0.0.1:$rs_port/contents" -H "Authorization: Bearer $rs_token")")
  ng+=("$(rps "http://127.0.0.1:$nginx_port/")")
  fl+=("$(rps "http://127.0.0.1:$flask_port/contents" -H "Authorization: Bearer $hs_token")")
  echo "round $round: espd HS256 ${hs[-1]}, espd RS256 ${rs[-1]}, nginx ${ng[-1]}, flask+pyjwt ${fl[-1]} req/s"
done

ratio_median() {  # ratio_median A B: median of the per-round ratios of arrays A and B
  local -n a=$1 b=$2
  local r=()
  for i in "${!a[@]}"; do r+=("$(awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN {printf "%.3f", x / y}')"); done
  median "${r[@]}"
}
printf 'auth: medians: espd HS256 %.0f, espd RS256 %.0f, nginx %.0f, flask+pyjwt %.0f req/s\n' \
  "$(median "${hs[@]}")" "$(median "${rs[@]}")" "$(median "${ng[@]}")" "$(median "${fl[@]}")"
printf 'auth: HS256/nginx = %.2f (goal >= 0.70), RS256/nginx = %.2f (goal >= 0.50), HS256/flask = %.1f (goal >= 10)\n' \
  "$(ratio_median hs ng)" "$(ratio_median rs ng)" "$(ratio_median hs fl)"

[[ -x build/release/bench/auth_bench ]] && build/release/bench/auth_bench --benchmark_min_time=0.3
