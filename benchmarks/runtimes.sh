# Sourced by the benchmark scripts: runtime_bin NAME prints the absolute path of a
# runtime's binary (node20, node24, bun), so that a server's pid is the runtime's own.
runtime_bin() {
  case $1 in
    node20) command -v node ;;
    node24) npx -y -p node@24 -c 'command -v node' 2>/dev/null | tail -1 ;;
    bun) npx -y -p bun -c 'command -v bun' 2>/dev/null | tail -1 ;;
  esac
}
