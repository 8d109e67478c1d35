# bash completion for pgconn-parse, pgconn-agg, pgconn-watch and pgconn-tail.
#
# Installed once per program name in bash-completion's completions/
# directory (its lazy loading looks a command's file up by the command's
# name); each copy registers all four. The options and their values come
# from the program's own usage lines (`--help`), so they are always those of
# the installed version: --format=json|tsv completes json and tsv,
# --by=db,user,app completes each name of the list after a comma, an option
# with a placeholder (--db=NAME, --bucket=15m) completes nothing, an
# optional value (--snapshot[=PID]) completes as the bare option, and any
# other word completes file names.

_pgconn() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev="" opt="" val="" usage word w
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  COMPREPLY=()

  # The usage lines: "usage: prog [--a=x|y] [--b] ..." up to the blank line.
  usage=$("${COMP_WORDS[0]}" --help 2>/dev/null | sed -n '1,/^$/p') || return 0
  usage=${usage#usage: }

  # "--opt=value": bash splits it at '=' (COMP_WORDBREAKS), readline
  # replaces only what follows the '='.
  if [[ $cur == = && $prev == --* ]]; then
    opt=$prev val=""
  elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
    opt=${COMP_WORDS[COMP_CWORD - 2]} val=$cur
  elif [[ $cur == --*=* ]]; then
    opt=${cur%%=*} val=${cur#*=}
  fi

  if [[ -n $opt ]]; then
    local spec="" values=()
    for word in $usage; do
      word=${word#[}; word=${word%]}
      [[ $word == "$opt="* ]] && { spec=${word#*=}; break; }
    done
    [[ $spec =~ ^[a-z0-9]+([|,][a-z0-9]+)+$ ]] || return 0   # a placeholder
    if [[ $spec == *,* ]]; then               # a comma list: complete the last name
      local head="" last=$val
      [[ $val == *,* ]] && { head=${val%,*},; last=${val##*,}; }
      IFS=, read -ra values <<<"$spec"
      for w in "${values[@]}"; do
        [[ $w == "$last"* && ,$head != *",$w,"* ]] && COMPREPLY+=("$head$w")
      done
      compopt -o nospace 2>/dev/null
    else
      IFS='|' read -ra values <<<"$spec"
      for w in "${values[@]}"; do [[ $w == "$val"* ]] && COMPREPLY+=("$w"); done
    fi
    return 0
  fi

  if [[ $cur == -* ]]; then
    local opts=() flag
    for word in $usage --help --version; do
      word=${word#[}; word=${word%]}; word=${word%%\[=*}   # --snapshot[=PID]: --snapshot
      [[ $word == --* ]] || continue
      if [[ $word == *=* ]]; then flag=${word%%=*}=; else flag=$word; fi
      [[ $flag == "$cur"* ]] && opts+=("$flag")
    done
    COMPREPLY=("${opts[@]}")
    [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
    return 0
  fi

  # Operands such as pgconn-watch's app=NAME, then files.
  for word in $usage; do
    word=${word#[}
    [[ $word =~ ^([a-z]+)=[A-Z]+$ && ${BASH_REMATCH[1]}= == "$cur"* ]] && COMPREPLY+=("${BASH_REMATCH[1]}=")
  done
  while IFS= read -r w; do COMPREPLY+=("$w"); done < <(compgen -f -- "$cur")
  [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
  return 0
}

complete -F _pgconn -o filenames pgconn-parse pgconn-agg pgconn-watch pgconn-tail
