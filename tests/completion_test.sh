#!/usr/bin/env bash
# The bash completion (completions/pgconn.bash): sourced, then its function
# called as bash calls it, with COMP_WORDS split the way bash splits a line
# (COMP_WORDBREAKS holds '=', so "--format=t" is "--format" "=" "t").
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh

# shellcheck source=../completions/pgconn.bash
. completions/pgconn.bash
PATH=$LIB_BIN:$PATH

# complete WORD...: the candidates for the last word, space-separated.
complete_line() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _pgconn
  echo "${COMPREPLY[*]}"
}
# expect NAME WANT WORD...
expect() {
  local name=$1 want=$2 got
  shift 2
  got=$(complete_line "$@")
  if [ "$got" = "$want" ]; then ok "$name"; else not_ok "$name" "want '$want', got '$got'"; fi
}

for t in pgconn-parse pgconn-agg pgconn-watch pgconn-tail; do
  reg=$(complete -p "$t" 2>/dev/null)
  if [[ $reg == *"-F _pgconn"* ]]; then ok "$t is registered"; else not_ok "$t is registered" "complete -p: $reg"; fi
done

# Every long option of each synopsis, plus --help and --version.
for t in pgconn-parse pgconn-agg pgconn-watch pgconn-tail; do
  want=$("$t" --help | sed -n '1,/^$/p' | grep -o '\[--[a-z-]*=\{0,1\}' | tr -d '[' | tr '\n' ' ')
  expect "$t: -- offers every option of the synopsis" "${want}--help --version" "$t" --
done
expect "an option prefix" "--format=" pgconn-parse --fo
expect "options of the program, not of another" "--history --host= --help" pgconn-agg --h
expect "pgconn-parse --format= values" "json tsv" pgconn-parse --format =
expect "pgconn-parse --format=t" "tsv" pgconn-parse --format = t
expect "pgconn-parse --input=s" "stderr syslog" pgconn-parse --input = s
expect "pgconn-parse --input= all formats" "auto stderr csv json syslog rfc5424 cnpg gcp journald azure cloudwatch heroku pgbouncer" pgconn-parse --input =
expect "pgconn-watch --color=" "auto always never" pgconn-watch --color =
expect "pgconn-tail --format= log formats" "stderr csvlog jsonlog" pgconn-tail --format =
expect "pgconn-tail --poll= a placeholder" "" pgconn-tail --poll =
expect "pgconn-agg --by= a list: the first name" "db user app host server" pgconn-agg --by =
expect "pgconn-agg --by=db,u: the name after the comma" "db,user" pgconn-agg --by = db,u
expect "pgconn-agg --by=db,user,: names not yet in the list" "db,user,app db,user,host db,user,server" pgconn-agg --by = db,user,
expect "--by=… as one word (no '=' in COMP_WORDBREAKS)" "db,host" pgconn-agg --by=db,h
expect "a placeholder value completes nothing" "" pgconn-agg --bucket =
expect "a name completes nothing" "" pgconn-watch --server = d
expect "pgconn-watch operand app=" "app=" pgconn-watch ap
expect "files" "tests/sample/fleet.log" pgconn-parse tests/sample/fl
expect "directories" "tests/sample" pgconn-parse tests/sam
expect "files after options" "tests/sample/sample.log" pgconn-agg --json tests/sample/sa

lib_done
