# bash completion for ssmc and ssmc-emulator.
# Installed as share/bash-completion/completions/ssmc (and ssmc-emulator, a
# link to it); bash-completion loads it on first use. Works without
# bash-completion too: `source` it from ~/.bashrc.
# The option lists mirror `ssmc --help`, `ssmc COMMAND --help` and
# `ssmc-emulator --help` (tests/package/check_docs.py compares them).

_ssmc_words() {
  # cur/prev/words/cword with ':' and '=' kept inside words (targets such as
  # name:web, option=value), using bash-completion's helper when loaded.
  if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
    _get_comp_words_by_ref -n =: cur prev words cword
  else
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
  fi
}

_ssmc_reply() {  # _ssmc_reply WORDLIST: complete $cur from WORDLIST
  local IFS=$' \t\n'
  COMPREPLY=($(compgen -W "$1" -- "$cur"))
  if declare -F __ltrim_colon_completions >/dev/null 2>&1; then
    __ltrim_colon_completions "$cur"
  fi
}

_ssmc_files() {  # _ssmc_files [-d]: file (or directory) names
  if declare -F _filedir >/dev/null 2>&1; then
    _filedir ${1:+"$1"}
  else
    local IFS=$'\n' kind=-f
    [ "$1" = -d ] && kind=-d
    COMPREPLY=($(compgen "$kind" -- "$cur"))
  fi
}

_ssmc_profiles() {
  local config=${AWS_CONFIG_FILE:-$HOME/.aws/config}
  local creds=${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}
  {
    [ -r "$config" ] && sed -n 's/^[[:space:]]*\[[[:space:]]*profile[[:space:]]\{1,\}\([^]]*[^][:space:]]\)[[:space:]]*\].*/\1/p; s/^[[:space:]]*\[[[:space:]]*default[[:space:]]*\].*/default/p' "$config"
    [ -r "$creds" ] && sed -n 's/^[[:space:]]*\[[[:space:]]*\([^]]*[^][:space:]]\)[[:space:]]*\].*/\1/p' "$creds"
  } 2>/dev/null | sort -u
}

_ssmc_regions="us-east-1 us-east-2 us-west-1 us-west-2 af-south-1 ap-east-1 ap-south-1 ap-south-2
  ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-northeast-1 ap-northeast-2
  ap-northeast-3 ca-central-1 eu-central-1 eu-central-2 eu-west-1 eu-west-2 eu-west-3 eu-north-1
  eu-south-1 eu-south-2 il-central-1 me-central-1 me-south-1 sa-east-1 us-gov-east-1 us-gov-west-1"

_ssmc_documents="AWS-StartInteractiveCommand AWS-StartNonInteractiveCommand AWS-StartSSHSession
  AWS-StartPortForwardingSession AWS-StartPortForwardingSessionToRemoteHost
  AWS-StartPortForwardingSessionToSocket SSMC-StartNonInteractiveCommandSeparateStreams"

_ssmc() {
  local cur prev words cword
  _ssmc_words
  local global_opts="--profile --region --endpoint-url --ca-bundle --reconnect-budget --keepalive-timeout --payload-size
    -v --verbose -q --quiet --version -h --help"
  local commands="shell exec forward ssh-proxy ssh-config plugin"

  # The command is the first word that is neither an option nor an option's value.
  local i cmd="" cmd_at=0
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      --profile | --region | --endpoint-url | --ca-bundle | --reconnect-budget | --keepalive-timeout | \
        --payload-size) ((i++)) ;;
      -*) ;;
      *) cmd=${words[i]}; cmd_at=$i; break ;;
    esac
  done

  case $prev in
    --profile) _ssmc_reply "$(_ssmc_profiles)"; return ;;
    --region) _ssmc_reply "$_ssmc_regions"; return ;;
    --ca-bundle) _ssmc_files; return ;;
    --endpoint-url | --reconnect-budget | --keepalive-timeout | --payload-size | --parameters | -L | --host) return ;;
    --document) _ssmc_reply "$_ssmc_documents"; return ;;
  esac

  if [ -z "$cmd" ]; then
    if [[ $cur == -* ]]; then _ssmc_reply "$global_opts"; else _ssmc_reply "$commands"; fi
    return
  fi

  # Positional words after the command (targets, ports, the remote command) are not completed.
  local opts=""
  case $cmd in
    shell) opts="--document --parameters --no-escapes -h --help" ;;
    exec)
      for ((i = cmd_at + 1; i < cword; i++)); do
        [ "${words[i]}" = "--" ] && return  # the remote command: nothing to offer
      done
      opts="--document -h --help" ;;
    forward) opts="-L --ready -h --help" ;;
    ssh-proxy) opts="-h --help" ;;
    ssh-config) opts="--host -h --help" ;;
    *) return ;;  # plugin: the AWS CLI's arguments
  esac
  [[ $cur == -* ]] && _ssmc_reply "$opts"
}

_ssmc_emulator() {
  local cur prev words cword
  _ssmc_words
  case $prev in
    --profile) _ssmc_reply "faithful fast"; return ;;
    --log-level) _ssmc_reply "trace debug info warn error"; return ;;
    --shell) _ssmc_files; return ;;
    --cert-out) _ssmc_files; return ;;
    --record-dir) _ssmc_files -d; return ;;
    --host | --port | --region | --access-key-id | --secret-access-key | --target | --allow-host | \
      --expire-access-key-after | --extra-credential | \
      --kms-key-id | --seed | --loss | --duplicate | --reorder | --corrupt | --drop-client-after | \
      --drop-client-every | --drop-agent-every | --agent-outage | --pause-every | --idle-timeout | \
      --stall-consumer-every | --stall-consumer-for | --delay | --jitter | \
      --max-session-duration | --payload-size) return ;;
  esac
  _ssmc_reply "--host --port --tls --cert-out --region --access-key-id --secret-access-key
    --expire-access-key-after --extra-credential
    --no-verify-signature --require-signed-upgrade --target --profile --payload-size --allow-host --kms-key-id --shell
    --record-dir --resume-new-url --log-level --ready-json --seed --loss --duplicate --reorder --corrupt
    --drop-client-after --drop-client-every --drop-agent-every --agent-outage --pause-every
    --stall-consumer-every --stall-consumer-for --delay --jitter
    --short-channel-closed --idle-timeout --max-session-duration -h --help"
}

complete -F _ssmc ssmc
complete -F _ssmc_emulator ssmc-emulator
