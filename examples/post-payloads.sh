#!/usr/bin/env bash
# Posts every sample payload in examples/payloads/ to a running hintd, with each platform's
# credentials (Chatwoot payloads are signed), and prints the answers.
#
#   hintd serve --config examples/hintd.toml &
#   examples/post-payloads.sh                      # http://127.0.0.1:8080, tokens of hintd.toml
#
# Environment: HINTD_URL, HINTD_ADMIN_KEY, CHAT2DESK_TOKEN, CHATWOOT_ACCOUNT, CHATWOOT_SECRET,
# WHAZING_TOKEN (defaults match
# examples/hintd.toml). Needs curl and openssl.
set -euo pipefail

HINTD_URL="${HINTD_URL:-http://127.0.0.1:8080}"
CHAT2DESK_TOKEN="${CHAT2DESK_TOKEN:-example-chat2desk-token}"
CHATWOOT_ACCOUNT="${CHATWOOT_ACCOUNT:-shop}"
CHATWOOT_SECRET="${CHATWOOT_SECRET:-example-secret-of-the-shop-account}"
WHAZING_TOKEN="${WHAZING_TOKEN:-example-whazing-token}"
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/payloads" && pwd)"

post() { # source file
    local source=$1 file=$2 name
    name="$source/$(basename "$file" .json)"
    case "$source" in
        chat2desk)
            answer=$(curl -sS -w ' [%{http_code}]' -X POST -H 'Content-Type: application/json' \
                --data-binary "@$file" "$HINTD_URL/webhooks/chat2desk?token=$CHAT2DESK_TOKEN") ;;
        chatwoot)
            ts=$(date +%s)
            sig=$( { printf '%s.' "$ts"; cat "$file"; } | openssl dgst -sha256 -hmac "$CHATWOOT_SECRET" -hex | sed 's/^.*= //')
            answer=$(curl -sS -w ' [%{http_code}]' -X POST -H 'Content-Type: application/json' \
                -H "X-Chatwoot-Timestamp: $ts" -H "X-Chatwoot-Signature: sha256=$sig" \
                --data-binary "@$file" "$HINTD_URL/webhooks/chatwoot/$CHATWOOT_ACCOUNT") ;;
        whazing)
            answer=$(curl -sS -w ' [%{http_code}]' -X POST -H 'Content-Type: application/json' \
                -H "Authorization: Bearer $WHAZING_TOKEN" \
                --data-binary "@$file" "$HINTD_URL/webhooks/whazing") ;;
    esac
    printf '%-45s %s\n' "$name" "$answer"
}

# Messages before the events that refer to them; hint requests before the choice.
for source in chat2desk chatwoot whazing; do
    for file in "$DIR/$source"/*.json; do
        case "$(basename "$file")" in ai_hints_chosen.json) continue ;; esac
        post "$source" "$file"
    done
done
post chat2desk "$DIR/chat2desk/ai_hints_chosen.json"

echo
echo "Context of the sample dialogs (admin key from examples/hintd.toml):"
for dialog in chat2desk/default/4324035 "chatwoot/$CHATWOOT_ACCOUNT/42" whazing/default/3150; do
    printf '%s: ' "$dialog"
    curl -sS -H "Authorization: Bearer ${HINTD_ADMIN_KEY:-change-me-to-a-long-random-key}" \
        "$HINTD_URL/api/v1/conversations/$dialog"
    echo
done
