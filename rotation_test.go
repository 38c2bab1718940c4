package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/statecodec"
)

// rotationStep is one deploy of docs/key-rotation.md: the state keys and
// signing keys every replica has after it, named by letter (A, B are state
// keys; a, b signing keys), first key first.
type rotationStep struct {
	name    string
	state   []string
	signing []string
}

// rotationRunbook is docs/key-rotation.md, both rotations at once: A and a
// are the old keys, B and b the new ones.
var rotationRunbook = []rotationStep{
	{"0 before: A seals, a signs", []string{"A"}, []string{"a"}},
	{"1 add the new keys second", []string{"A", "B"}, []string{"a", "b"}},
	{"2 move the new keys first", []string{"B", "A"}, []string{"b", "a"}},
	{"3 remove the old keys", []string{"B"}, []string{"b"}},
}

// minted is what one replica handed out at one step: a session (access and
// refresh token) and, for each later step, a login whose code waits to be
// redeemed there. seal and sign name the keys it was made with.
type minted struct {
	step       int
	by         string // "new" or "old" replica of the step
	seal, sign string
	api        apiTokens
	pending    map[int]pendingLogin
}

// TestKeyRotationLogsNobodyOut follows docs/key-rotation.md deploy by
// deploy. Each step is a rolling deploy: replicas with the step's keys
// start while replicas with the previous step's keys still run, and
// each side must accept what the other mints (no one is logged out
// mid-deploy). What was minted at a step — a state, an access token, a
// refresh token — must keep working at every later step while the key
// that made it is still configured, and be refused, with the code a
// client sees, once it is removed: invalid_state for a state,
// invalid_token for access and refresh tokens.
func TestKeyRotationLogsNobodyOut(t *testing.T) {
	op := newReplicaOP(t)
	keys := newRotationKeys(t)
	var all []*minted
	last := len(rotationRunbook) - 1
	// refusals counts, at the last step, the states, access tokens and
	// refresh tokens refused: some of each must be (the old keys' own).
	refusals := map[string]int{}

	for j, step := range rotationRunbook {
		t.Run(step.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			// The replicas of this deploy live as long as this subtest: the
			// next step restarts them with the next keys.
			newURL := startReplica(t, op, keys.env(step))
			replicas := map[string]string{"new": newURL}
			if j > 0 {
				replicas["old"] = startReplica(t, op, keys.env(rotationRunbook[j-1]))
			}

			// What earlier steps minted, here.
			for _, m := range all {
				sealOK := slices.Contains(step.state, m.seal)
				signOK := slices.Contains(step.signing, m.sign)
				if (!sealOK || !signOK) && j != last {
					t.Errorf("step %d drops a key still in use by step %d: it logs people out before the runbook's waits", j, m.step)
				}
				what := fmt.Sprintf("from step %d (%s replica, sealed with %s, signed with %s)", m.step, m.by, m.seal, m.sign)
				t.Run("access token "+what, func(t *testing.T) {
					if signOK {
						checkVerifies(ctx, t, newURL, m.api.Access)
					} else {
						checkRefused(ctx, t, newURL, m.api.Access)
						refusals["access"]++
					}
				})
				t.Run("refresh token "+what, func(t *testing.T) {
					if sealOK {
						checkVerifies(ctx, t, newURL, checkRefreshes(ctx, t, newURL, m.api.Refresh).Access)
					} else {
						checkRefreshRefused(ctx, t, newURL, m.api.Refresh)
						refusals["refresh"]++
					}
				})
				if p, ok := m.pending[j]; ok {
					t.Run("state "+what, func(t *testing.T) {
						status, body := p.finish(ctx, t, newURL)
						if sealOK {
							if status != http.StatusOK {
								t.Fatalf("/oauth2/token: %d %s", status, body)
							}
							checkVerifies(ctx, t, newURL, parseAPITokens(t, body).Access)
						} else {
							checkProblem(t, status, body, http.StatusBadRequest, "invalid_state", "", "")
							refusals["state"]++
						}
					})
				}
			}

			// What this step's replicas mint: each side of the rolling
			// deploy accepts the other's, in both directions.
			for _, by := range []string{"new", "old"} {
				from, ok := replicas[by]
				if !ok {
					continue
				}
				cfg := step
				if by == "old" {
					cfg = rotationRunbook[j-1]
				}
				m := &minted{step: j, by: by, seal: cfg.state[0], sign: cfg.signing[0], pending: map[int]pendingLogin{}}
				status, body := startLogin(ctx, t, from, op, "ada@example.com").finish(ctx, t, from)
				if status != http.StatusOK {
					t.Fatalf("login at the %s replica: %d %s", by, status, body)
				}
				m.api = parseAPITokens(t, body)
				for k := j + 1; k < len(rotationRunbook); k++ {
					m.pending[k] = startLogin(ctx, t, from, op, "ada@example.com")
				}
				all = append(all, m)

				for to, at := range replicas {
					if to == by {
						continue
					}
					t.Run(fmt.Sprintf("minted by the %s replica, used at the %s", by, to), func(t *testing.T) {
						checkVerifies(ctx, t, at, m.api.Access)
						checkVerifies(ctx, t, at, checkRefreshes(ctx, t, at, m.api.Refresh).Access)
						status, body := startLogin(ctx, t, from, op, "ada@example.com").finish(ctx, t, at)
						if status != http.StatusOK {
							t.Errorf("state from the %s replica at the %s: %d %s", by, to, status, body)
						}
					})
				}
			}
		})
	}

	// Only the removal refuses anything, and it refuses the old keys' own
	// states, access tokens and refresh tokens: the runbook waits out
	// STATE_TTL, ACCESS_TTL and REFRESH_TTL before it.
	for _, kind := range []string{"state", "access", "refresh"} {
		if refusals[kind] == 0 {
			t.Errorf("no %s was refused after the old keys were removed", kind)
		}
	}
}

// TestKeyRotationInOneStepLogsPeopleOut is why the runbook adds a key
// second before it moves it first: a deploy that goes from [A] straight to
// [B, A] runs replicas that do not know B beside replicas that seal with
// it, and the old ones refuse what the new ones mint.
func TestKeyRotationInOneStepLogsPeopleOut(t *testing.T) {
	op := newReplicaOP(t)
	keys := newRotationKeys(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	old := startReplica(t, op, keys.env(rotationRunbook[0]))
	skipped := startReplica(t, op, keys.env(rotationRunbook[2]))

	status, body := startLogin(ctx, t, skipped, op, "ada@example.com").finish(ctx, t, skipped)
	if status != http.StatusOK {
		t.Fatalf("login: %d %s", status, body)
	}
	api := parseAPITokens(t, body)
	checkRefused(ctx, t, old, api.Access)
	checkRefreshRefused(ctx, t, old, api.Refresh)
	status, body = startLogin(ctx, t, skipped, op, "ada@example.com").finish(ctx, t, old)
	checkProblem(t, status, body, http.StatusBadRequest, "invalid_state", "", "")
}

// rotationKeys holds the key material behind the letters of
// rotationRunbook.
type rotationKeys struct {
	state   map[string]string          // base64url secrets
	signing map[string]json.RawMessage // one private JWK each
}

func newRotationKeys(t *testing.T) rotationKeys {
	t.Helper()
	k := rotationKeys{state: map[string]string{}, signing: map[string]json.RawMessage{}}
	for _, name := range []string{"A", "B"} {
		_, secret, err := statecodec.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		k.state[name] = secret
	}
	for _, name := range []string{"a", "b"} {
		raw, err := apitoken.GenerateSigningKey("ES256")
		if err != nil {
			t.Fatal(err)
		}
		var set struct{ Keys []json.RawMessage }
		if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 1 {
			t.Fatalf("GenerateSigningKey: %v, %d keys", err, len(set.Keys))
		}
		k.signing[name] = set.Keys[0]
	}
	return k
}

// env is the EDGEAUTH_STATE_KEYS and EDGEAUTH_SIGNING_KEYS of step, in
// the forms an operator writes: a comma list, and a JWK Set whose first key
// signs.
func (k rotationKeys) env(step rotationStep) map[string]string {
	state := make([]string, len(step.state))
	for i, name := range step.state {
		state[i] = k.state[name]
	}
	set := struct {
		Keys []json.RawMessage `json:"keys"`
	}{}
	for _, name := range step.signing {
		set.Keys = append(set.Keys, k.signing[name])
	}
	signing, _ := json.Marshal(set)
	return map[string]string{
		"EDGEAUTH_STATE_KEYS":   strings.Join(state, ","),
		"EDGEAUTH_SIGNING_KEYS": string(signing),
	}
}
