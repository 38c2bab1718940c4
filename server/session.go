package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/userhook"
)

// user is who logged in: the provider's identity and the id the backend
// knows them by.
type user struct {
	ID       string
	Provider string
	Identity oidc.Identity
	// Claims are added to the access token (from the user webhook).
	Claims map[string]any
}

func (u user) response() map[string]any {
	out := map[string]any{}
	for k, v := range u.Claims {
		out[k] = v
	}
	out["id"] = u.ID
	out["provider"] = u.Provider
	out["subject"] = u.Identity.Subject
	if u.Identity.Email != "" {
		out["email"] = u.Identity.Email
		out["email_verified"] = u.Identity.EmailVerified
	}
	if u.Identity.Name != "" {
		out["name"] = u.Identity.Name
	}
	if u.Identity.Picture != "" {
		out["picture"] = u.Identity.Picture
	}
	return out
}

// identify decides who the person is. With a user webhook the backend
// answers (and may refuse); without one the API subject is
// "<provider>|<provider subject>", unique across providers.
func (s *Server) identify(ctx context.Context, eventType string, p *provider, id oidc.Identity) (user, error) {
	if err := checkEmailDomain(p.cfg, id); err != nil {
		return user{}, err
	}
	u := user{ID: p.cfg.Name + "|" + id.Subject, Provider: p.cfg.Name, Identity: id}
	event := userhook.Event{
		Type:      eventType,
		Timestamp: s.now(),
		Data: userhook.EventData{
			Provider:      p.cfg.Name,
			Issuer:        id.Issuer,
			Subject:       id.Subject,
			Email:         id.Email,
			EmailVerified: id.EmailVerified,
			Name:          id.Name,
			Picture:       id.Picture,
			Claims:        id.Claims,
			Userinfo:      id.Userinfo,
		},
	}
	if p.hook == nil {
		if s.cfg.Dev != nil {
			s.log.Info("dev mode: no user webhook; this is the event it would receive (edgeauth dev --userhook-url URL)", "event", event)
		}
		return u, nil
	}
	started := time.Now()
	d, err := p.hook.Send(ctx, event)
	if err != nil {
		return user{}, problem(http.StatusBadGateway, "userhook_unavailable", "the backend's user webhook gave no usable answer; nothing was minted", err)
	}
	s.log.Debug("user webhook answered", "provider", p.cfg.Name, "allowed", d.Allowed, "latency", time.Since(started))
	if !d.Allowed {
		msg := d.Message
		if msg == "" {
			msg = "the backend refused this login"
		}
		return user{}, problem(http.StatusForbidden, "user_denied", msg, nil)
	}
	u.ID = d.UserID
	u.Claims = s.hookClaims(p.cfg.Name, d.Claims)
	return u, nil
}

// hookClaims drops the claims a webhook may not set: edgeauth owns the
// registered ones, and a hook that tries is misconfigured (logged as an
// error, the login goes on).
func (s *Server) hookClaims(provider string, claims map[string]any) map[string]any {
	if len(claims) == 0 {
		return nil
	}
	out := make(map[string]any, len(claims))
	var dropped []string
	for k, v := range claims {
		if registeredClaims[k] {
			dropped = append(dropped, k)
			continue
		}
		out[k] = v
	}
	if len(dropped) > 0 {
		slices.Sort(dropped)
		s.log.Error("user webhook tried to set registered claims; they were dropped", "provider", provider, "claims", dropped)
	}
	return out
}

// checkEmailDomain enforces ALLOWED_EMAIL_DOMAINS on a verified email only:
// an unverified address proves nothing about the domain.
func checkEmailDomain(pc ProviderConfig, id oidc.Identity) error {
	if len(pc.AllowedEmailDomains) == 0 {
		return nil
	}
	at := strings.LastIndexByte(id.Email, '@')
	if !id.EmailVerified || at < 0 {
		return problem(http.StatusForbidden, "user_denied", "this provider only admits verified email addresses of allowed domains", nil)
	}
	domain := strings.ToLower(id.Email[at+1:])
	for _, d := range pc.AllowedEmailDomains {
		if domain == d {
			return nil
		}
	}
	return problem(http.StatusForbidden, "user_denied", "the email domain is not allowed for this provider", nil)
}

// refreshState is sealed into the API refresh token (purpose "r"): enough to
// mint a new access token, refresh at the provider, and ask the webhook
// again, with no storage.
type refreshState struct {
	Subject         string         `json:"u"`
	Provider        string         `json:"p"`
	ProviderSubject string         `json:"ps"`
	Claims          map[string]any `json:"c,omitempty"`
	SessionStart    int64          `json:"t"`
	AuthTime        int64          `json:"at"`
	ProviderRefresh string         `json:"rt,omitempty"`
}

// mint issues the API access token and a refresh token whose life never
// passes the absolute session lifetime.
func (s *Server) mint(u user, p *provider, sessionStart time.Time, providerRefresh string) (apiTokens, error) {
	authTime := authTimeOf(u.Identity, sessionStart)
	access, expiresIn, err := s.signer.Mint(AccessClaims{Subject: u.ID, Provider: p.cfg.Name, AuthTime: authTime, Extra: u.Claims})
	if err != nil {
		return apiTokens{}, fmt.Errorf("mint access token: %w", err)
	}
	ttl := s.cfg.RefreshTTL
	if left := sessionStart.Add(s.cfg.SessionMaxAge).Sub(s.now()); left < ttl {
		ttl = left
	}
	refresh, err := s.codec.Seal(purposeRefresh, refreshState{
		Subject:         u.ID,
		Provider:        p.cfg.Name,
		ProviderSubject: u.Identity.Subject,
		Claims:          u.Claims,
		SessionStart:    sessionStart.Unix(),
		AuthTime:        authTime.Unix(),
		ProviderRefresh: providerRefresh,
	}, ttl)
	if err != nil {
		return apiTokens{}, fmt.Errorf("seal refresh token: %w", err)
	}
	return apiTokens{Access: access, Refresh: refresh, TokenType: "Bearer", ExpiresIn: expiresIn}, nil
}

// authTimeOf is when the person authenticated: the provider's auth_time
// (OIDC Core §2) when its ID token says, else the start of this session.
func authTimeOf(id oidc.Identity, sessionStart time.Time) time.Time {
	if v, ok := id.Claims["auth_time"].(float64); ok && v > 0 && v <= float64(sessionStart.Unix()) {
		return time.Unix(int64(v), 0)
	}
	return sessionStart
}
