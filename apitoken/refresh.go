package apitoken

import (
	"errors"
	"fmt"
	"time"

	"github.com/edgeauth/edgeauth/statecodec"
)

// refreshPurpose names the refresh-token keys in their derivation from the
// state keys ([statecodec.DeriveKey]); refreshType is the statecodec purpose,
// the JWE typ, kept to one letter because it rides in every token.
const (
	refreshPurpose = "refresh"
	refreshType    = "r"
)

// RefreshCodec seals and opens edgeauth's refresh tokens: compact JWEs made
// by statecodec under keys derived from the state keys for this purpose
// only, so that no flow state — nor any other token sealed with the state
// keys themselves — ever opens as a refresh token, and no refresh token as a
// state. It is immutable and safe for concurrent use.
type RefreshCodec struct {
	codec *statecodec.Codec
}

// NewRefreshCodec derives the refresh-token key ring from stateKeys (first
// seals, all open, as for states). now nil means time.Now.
func NewRefreshCodec(stateKeys []statecodec.Key, now func() time.Time) (*RefreshCodec, error) {
	if len(stateKeys) == 0 {
		return nil, errors.New("apitoken: refresh: no state keys")
	}
	ring := make([]statecodec.Key, len(stateKeys))
	for i, k := range stateKeys {
		d, err := statecodec.DeriveKey(k, refreshPurpose)
		if err != nil {
			return nil, fmt.Errorf("apitoken: refresh: key %d: %w", i+1, err)
		}
		ring[i] = d
	}
	c, err := statecodec.New(ring, statecodec.WithClock(now))
	if err != nil {
		return nil, fmt.Errorf("apitoken: refresh: %w", err)
	}
	return &RefreshCodec{codec: c}, nil
}

// Session is what a refresh token carries: enough to mint a new access
// token, refresh at the provider and ask the user webhook again, with no
// storage.
type Session struct {
	Subject         string         // the API sub: the webhook's user_id, or provider|sub
	Provider        string         // the configured provider name
	ProviderSubject string         // the provider's sub
	Claims          map[string]any // the webhook's claims
	SessionStart    time.Time      // the login; SESSION_MAX_AGE counts from it
	AuthTime        time.Time      // zero when unknown
	ProviderRefresh string         // the provider's refresh token, when it gave one
	// Confirmation is the DPoP key thumbprint the session is bound to (RFC
	// 9449 §5), empty for bearer. Reserved: sealed and opened, not enforced
	// here.
	Confirmation string
}

// sealedSession is Session as sealed, in whole seconds and with names of
// one or two letters: the token has to stay short. Unknown names are ignored
// on open, so a later version can add members without a format break.
type sealedSession struct {
	Subject         string         `json:"u"`
	Provider        string         `json:"p"`
	ProviderSubject string         `json:"ps,omitempty"`
	Claims          map[string]any `json:"c,omitempty"`
	SessionStart    int64          `json:"t"`
	AuthTime        int64          `json:"at,omitempty"`
	ProviderRefresh string         `json:"rt,omitempty"`
	Confirmation    string         `json:"j,omitempty"`
}

// Seal makes a refresh token for s, valid for ttl. The caller keeps ttl
// within the absolute session lifetime.
func (c *RefreshCodec) Seal(s Session, ttl time.Duration) (string, error) {
	if s.Subject == "" || s.Provider == "" || s.SessionStart.IsZero() {
		return "", errors.New("apitoken: refresh: subject, provider and session start are required")
	}
	p := sealedSession{
		Subject:         s.Subject,
		Provider:        s.Provider,
		ProviderSubject: s.ProviderSubject,
		Claims:          s.Claims,
		SessionStart:    s.SessionStart.Unix(),
		ProviderRefresh: s.ProviderRefresh,
		Confirmation:    s.Confirmation,
	}
	if !s.AuthTime.IsZero() {
		p.AuthTime = s.AuthTime.Unix()
	}
	tok, err := c.codec.Seal(refreshType, &p, ttl)
	if err != nil {
		return "", fmt.Errorf("apitoken: refresh: %w", err)
	}
	return tok, nil
}

// Open checks a refresh token and returns its session. Errors wrap
// [ErrExpired] for an authentic token past its expiry, [ErrInvalid] for
// anything else, and never contain the token.
func (c *RefreshCodec) Open(token string) (Session, error) {
	var p sealedSession
	switch err := c.codec.Open(refreshType, token, &p); {
	case errors.Is(err, statecodec.ErrExpired):
		return Session{}, fmt.Errorf("%w: refresh token expired", ErrExpired)
	case err != nil:
		return Session{}, fmt.Errorf("%w: not a refresh token of this service", ErrInvalid)
	}
	if p.Subject == "" || p.Provider == "" || p.SessionStart <= 0 {
		return Session{}, fmt.Errorf("%w: refresh token lacks subject, provider or session start", ErrInvalid)
	}
	s := Session{
		Subject:         p.Subject,
		Provider:        p.Provider,
		ProviderSubject: p.ProviderSubject,
		Claims:          p.Claims,
		SessionStart:    time.Unix(p.SessionStart, 0),
		ProviderRefresh: p.ProviderRefresh,
		Confirmation:    p.Confirmation,
	}
	if p.AuthTime > 0 {
		s.AuthTime = time.Unix(p.AuthTime, 0)
	}
	return s, nil
}
