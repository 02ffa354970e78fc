#!/bin/sh
# rules_auditctl_load: when auditctl may change the kernel's rules here, loads
# what `logward rules --no-immutable` prints for each profile and checks that
# every rule is accepted and that `auditctl -l` then reads back as covering
# every guideline category (through our parser and `rules --check -`). Then
# feeds each rule line of parse_cases.txt to auditctl alone and expects it to
# agree with our parser's verdict. The host's rules are saved first and
# restored by a trap. Never loads -e 2, which would lock the rules until reboot.
set -u
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
failures=0
LOGWARD="${LW_BIN:?run through ctest}/logward"
CASES="${LW_SRC:?}/tests/rules/parse_cases.txt"

command -v auditctl >/dev/null 2>&1 || skip "auditctl not installed (Debian package auditd)"
[ "$(id -u)" = 0 ] || skip "not root: auditctl cannot change rules"
status=$(auditctl -s 2>/dev/null) || skip "auditctl -s fails: no audit support or no CAP_AUDIT_CONTROL here"
enabled=$(printf '%s\n' "$status" | awk '$1 == "enabled" { print $2 }')
[ "$enabled" = 2 ] && skip "the kernel's rules are immutable (enabled 2) until reboot"

tmp=$(mktemp -d /tmp/lw-auditctl-XXXXXX)
auditctl -l >"$tmp/saved" 2>/dev/null || skip "auditctl -l fails"
# On exit, whatever happened: put the saved rules back and check that they
# are back; a failed restore fails the test (it changed the host).
restore() {
    local rc=$? bad=0
    auditctl -D >/dev/null 2>&1
    if ! grep -qx 'No rules' "$tmp/saved"; then
        auditctl -R "$tmp/saved" >/dev/null 2>&1 || { echo "FAIL: could not restore the saved rules"; bad=1; }
    fi
    auditctl -l >"$tmp/after" 2>/dev/null
    cmp -s "$tmp/saved" "$tmp/after" || { echo "FAIL: rules after the test differ from before"; bad=1; }
    rm -rf "$tmp"
    [ "$bad" = 0 ] || exit 1
    exit "$rc"
}
trap restore EXIT
trap 'exit 2' INT TERM HUP

for profile in main full; do
    "$LOGWARD" rules --profile "$profile" --no-immutable >"$tmp/gen.rules" || fail "rules $profile"
    if grep -q '^-e' "$tmp/gen.rules"; then
        fail "$profile: output sets -e; refusing to load it"
        continue
    fi
    auditctl -D >/dev/null 2>&1
    if ! auditctl -R "$tmp/gen.rules" >"$tmp/load.out" 2>&1; then
        fail "$profile: auditctl -R refused the generated rules: $(cat "$tmp/load.out")"
    fi
    auditctl -l >"$tmp/loaded" 2>&1
    want=$(grep -c '^-[aw] ' "$tmp/gen.rules")
    got=$(grep -c '^-[aw] ' "$tmp/loaded")
    [ "$want" = "$got" ] || fail "$profile: $want rules generated, $got loaded"
    "$LW_RULE_DUMP" <"$tmp/loaded" | grep -v '"error":null' >"$tmp/bad" && \
        fail "$profile: our parser rejects auditctl -l output: $(head -3 "$tmp/bad")"
    "$LOGWARD" rules --check - <"$tmp/loaded" >"$tmp/check.out" 2>&1 || \
        fail "$profile: rules --check on auditctl -l: $(cat "$tmp/check.out")"
    echo "$profile: $got rules loaded and read back as covering every category"
done

# Our parser against auditctl on single rule lines (the "!" cases are skipped).
agree=0
while IFS= read -r line; do
    case "$line" in '#'* | '!'* | '') continue ;; esac
    verdict=${line%% | *}
    rule=${line#* | }
    case "$rule" in '-a '* | '-w '* | '-A '*) ;; *) continue ;; esac
    auditctl -D >/dev/null 2>&1
    printf '%s\n' "$rule" >"$tmp/one.rules"
    if auditctl -R "$tmp/one.rules" >/dev/null 2>&1; then kernel=ok; else kernel=error; fi
    ours=error
    [ "$verdict" = ok ] && ours=ok
    if [ "$kernel" = "$ours" ]; then
        agree=$((agree + 1))
    else
        fail "auditctl says $kernel, our parser $ours: $rule"
    fi
done <"$CASES"
echo "auditctl agreed with our parser on $agree rule lines"
[ "$agree" -ge 30 ] || fail "only $agree lines compared"
[ "$failures" = 0 ] || exit 1
echo ok
