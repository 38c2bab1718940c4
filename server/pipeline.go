package server

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/userhook"
)

// The tail shared by /oauth2/token, /oauth2/refresh and
// /oauth2/convert-token: the backend decides who the person is (admit),
// API tokens are minted (issue), and the answer is written (finish).

// session is what a pipeline tail needs to know about the login behind a
// request.
type session struct {
	event    string // userhook.EventLogin, EventRefresh or EventConvert
	provider *provider
	identity oidc.Identity
	// start is when the person logged in: SESSION_MAX_AGE counts from it.
	start time.Time
	// authTime is when the person last authenticated at the provider;
	// zero: the ID token's auth_time, else start.
	authTime time.Time
	// providerRefresh is the provider's refresh token, sealed into ours.
	providerRefresh string
	// subject, when set, is the API subject the session already has: a
	// refresh may not turn it into someone else.
	subject string
	// claims are the session's claims so far (refresh only): without a
	// webhook nobody can change them, so they carry over.
	claims map[string]any
}

// user is who logged in: the provider's identity and the id the backend
// knows them by.
type user struct {
	ID       string
	Provider string
	Identity oidc.Identity
	// Claims are added to the access token (from the user webhook).
	Claims map[string]any
}

type apiTokens struct {
	Access    string `json:"access"`
	Refresh   string `json:"refresh"`
	TokenType string `json:"token_type"`
	ExpiresIn int64  `json:"expires_in"`
}

type providerTokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
	Scope        string `json:"scope,omitempty"`
	LogoutURL    string `json:"logout_url,omitempty"`
}

type tokenResponse struct {
	API      apiTokens       `json:"api"`
	Provider *providerTokens `json:"provider,omitempty"`
	User     map[string]any  `json:"user"`
	AppState string          `json:"app_state,omitempty"`
}

// finish runs the tail and writes the answer; provider tokens and app
// state ride along when the endpoint has them.
func (s *Server) finish(c echo.Context, sess session, pt *providerTokens, appState string) error {
	u, err := s.admit(c, sess)
	if err != nil {
		return err
	}
	if sess.subject != "" && u.ID != sess.subject {
		return problem(http.StatusBadGateway, CodeUserhookUnavailable, "the user webhook answered another user_id for this session; nothing was minted", nil)
	}
	api, err := s.issue(u, sess)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, tokenResponse{API: api, Provider: pt, User: u.response(), AppState: appState})
}

func (u user) response() map[string]any {
	out := maps.Clone(u.Claims)
	if out == nil {
		out = make(map[string]any, 7)
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

// admit decides who the person is. With a user webhook the backend answers
// (and may refuse); without one the API subject is
// "<provider>|<provider subject>", unique across providers.
func (s *Server) admit(c echo.Context, sess session) (user, error) {
	p, id := sess.provider, sess.identity
	if err := checkEmailDomain(p.cfg, id); err != nil {
		return user{}, err
	}
	u := user{ID: p.cfg.Name + "|" + id.Subject, Provider: p.cfg.Name, Identity: id}
	event := userhook.Event{
		Type:      sess.event,
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
	log := s.reqLog(c)
	if p.hook == nil {
		if s.cfg.Dev != nil {
			log.Info("dev mode: no user webhook; this is the event it would receive (edgeauth dev --userhook-url URL)", "event", event)
		}
		u.Claims = withEmail(maps.Clone(sess.claims), id)
		return u, nil
	}
	started := time.Now()
	d, err := p.hook.Send(c.Request().Context(), event)
	if err != nil {
		return user{}, problem(http.StatusBadGateway, CodeUserhookUnavailable, "the backend's user webhook gave no usable answer; nothing was minted", err)
	}
	log.Debug("user webhook answered", "provider", p.cfg.Name, "event", sess.event, "allowed", d.Allowed, "latency", time.Since(started))
	if !d.Allowed {
		msg := d.Message
		if msg == "" {
			msg = "the backend refused this login"
		}
		return user{}, problem(http.StatusForbidden, CodeUserDenied, msg, nil)
	}
	u.ID = d.UserID
	u.Claims = s.hookClaims(log, p.cfg.Name, d.Claims)
	if _, set := u.Claims["email"]; !set && sess.claims["email"] != nil && id.Email == "" {
		// A refresh without the provider knows no email: keep the one the
		// session had, unless the webhook says otherwise.
		u.Claims = withClaim(u.Claims, "email", sess.claims["email"])
	}
	u.Claims = withEmail(u.Claims, id)
	return u, nil
}

// hookClaims drops the claims a webhook may not set: edgeauth owns the
// registered ones (cnf among them), and the sensitive ones (acr, amr, …) need
// USERHOOK_CLAIMS_ALLOWED, because a resource server may read them as
// facts about the login. A hook that tries is misconfigured: logged as an
// error, the login goes on.
func (s *Server) hookClaims(log *slog.Logger, provider string, claims map[string]any) map[string]any {
	if len(claims) == 0 {
		return nil
	}
	out := make(map[string]any, len(claims))
	var dropped []string
	for k, v := range claims {
		if apitoken.IsRegisteredClaim(k) || (slices.Contains(sensitiveClaims, k) && !slices.Contains(s.cfg.Userhook.ClaimsAllowed, k)) {
			dropped = append(dropped, k)
			continue
		}
		out[k] = v
	}
	if len(dropped) > 0 {
		slices.Sort(dropped)
		log.Error("user webhook set claims it may not set; they were dropped (registered claims and cnf never, acr/amr/azp/scope only with EDGEAUTH_USERHOOK_CLAIMS_ALLOWED)", "provider", provider, "claims", dropped)
	}
	return out
}

// withEmail adds the provider's email to the claims when it is verified and
// no claim names one yet, so a proxy behind /oauth2/verify can pass it on
// (X-Auth-Request-Email). An unverified address is never vouched for.
func withEmail(claims map[string]any, id oidc.Identity) map[string]any {
	if _, set := claims["email"]; set || id.Email == "" || !id.EmailVerified {
		return claims
	}
	return withClaim(claims, "email", id.Email)
}

func withClaim(claims map[string]any, name string, v any) map[string]any {
	if claims == nil {
		claims = make(map[string]any, 1)
	}
	claims[name] = v
	return claims
}

// checkEmailDomain enforces ALLOWED_EMAIL_DOMAINS on a verified email only:
// an unverified address proves nothing about the domain.
func checkEmailDomain(pc ProviderConfig, id oidc.Identity) error {
	if len(pc.AllowedEmailDomains) == 0 {
		return nil
	}
	at := strings.LastIndexByte(id.Email, '@')
	if !id.EmailVerified || at < 0 {
		return problem(http.StatusForbidden, CodeUserDenied, "this provider only admits verified email addresses of allowed domains", nil)
	}
	if !slices.Contains(pc.AllowedEmailDomains, strings.ToLower(id.Email[at+1:])) {
		return problem(http.StatusForbidden, CodeUserDenied, "the email domain is not allowed for this provider", nil)
	}
	return nil
}

// issue mints the API access token and a refresh token whose life never
// passes the absolute session lifetime.
func (s *Server) issue(u user, sess session) (apiTokens, error) {
	authTime := sess.authTime
	if authTime.IsZero() {
		authTime = authTimeOf(u.Identity, sess.start)
	}
	access, expiresIn, err := s.signer.Mint(apitoken.Claims{Subject: u.ID, Provider: u.Provider, AuthTime: authTime, Extra: u.Claims})
	if err != nil {
		return apiTokens{}, fmt.Errorf("mint access token: %w", err)
	}
	ttl := min(s.cfg.RefreshTTL, sess.start.Add(s.cfg.SessionMaxAge).Sub(s.now()))
	refresh, err := s.refresh.Seal(apitoken.Session{
		Subject:         u.ID,
		Provider:        u.Provider,
		ProviderSubject: u.Identity.Subject,
		Claims:          u.Claims,
		SessionStart:    sess.start,
		AuthTime:        authTime,
		ProviderRefresh: sess.providerRefresh,
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

// providerProblem maps an oidc error to a problem: oidc says whose fault it
// is (the request's: 4xx; the provider's: 502), and its Detail is safe to
// show.
func providerProblem(err error) error {
	oe, ok := errors.AsType[*oidc.Error](err)
	if !ok {
		return problem(http.StatusBadGateway, CodeProviderUnavailable, "the provider could not be reached", err)
	}
	status, code := http.StatusBadGateway, Code(oe.Code)
	if oe.Fault == oidc.FaultClient {
		status = http.StatusBadRequest
	}
	switch oe.Code {
	case oidc.CodeDomainNotAllowed:
		status, code = http.StatusForbidden, CodeUserDenied
	case oidc.CodeInvalidToken:
		status = http.StatusUnauthorized
	}
	if _, known := codeTitles[code]; !known {
		code = CodeProviderUnavailable
		if status < 500 {
			code = CodeInvalidRequest
		}
	}
	p := problem(status, code, oe.Detail, err)
	p.Check = oe.Check
	return p
}
