package server

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/statecodec"
	"github.com/edgeauth/edgeauth/userhook"
)

// bindingCookie holds the user-agent binding in cookie mode. The __Host-
// prefix makes the browser refuse it unless it is Secure, host-only and
// Path=/ (RFC 6265bis §4.1.3.2), so a sibling subdomain cannot plant one.
const bindingCookie = "__Host-edgeauth-binding"

// Input bounds: generous for real providers, small enough that nothing
// large reaches the crypto or the provider.
const (
	maxCodeLen      = 2048
	maxStateLen     = 4096
	maxBindingLen   = 256
	minBindingLen   = 16
	maxLoginHintLen = 256
	maxIssLen       = 2048
)

var allowedPrompts = []string{"none", "login", "consent", "select_account", "create"}

type providerInfo struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Type        string `json:"type"`
}

func (s *Server) listProviders(c echo.Context) error {
	out := make([]providerInfo, 0, len(s.order))
	for _, name := range s.order {
		p := s.providers[name]
		out = append(out, providerInfo{Name: name, DisplayName: p.cfg.DisplayName, Type: p.cfg.OIDC.Type})
	}
	return c.JSON(http.StatusOK, map[string]any{"providers": out})
}

func (s *Server) lookupProvider(name string) (*provider, error) {
	if name == "" {
		return nil, problem(http.StatusBadRequest, "invalid_request", "provider is required", nil)
	}
	p, ok := s.providers[name]
	if !ok {
		return nil, problem(http.StatusBadRequest, "unknown_provider", fmt.Sprintf("no provider named %q is configured; GET /oauth2/providers lists them", truncate(name, 64)), nil)
	}
	return p, nil
}

type urlResponse struct {
	URL       string `json:"url"`
	State     string `json:"state"`
	ExpiresIn int64  `json:"expires_in"`
}

// authorizationURL starts a login: it seals a fresh flow into the state and
// returns the provider's authorization URL.
func (s *Server) authorizationURL(c echo.Context) error {
	q := c.QueryParams()
	p, err := s.lookupProvider(q.Get("provider"))
	if err != nil {
		return err
	}
	fs := flowState{Provider: p.cfg.Name}

	redirectURI := p.cfg.RedirectURI
	if r := q.Get("redirect_uri"); r != "" {
		if !slices.Contains(p.cfg.RedirectURIs, r) {
			return problem(http.StatusBadRequest, "redirect_uri_not_allowed",
				fmt.Sprintf("redirect_uri is not one of the provider's allowed redirect URIs (EDGEAUTH_%s_REDIRECT_URI(S)); matching is exact", strings.ToUpper(p.cfg.Name)), nil)
		}
		redirectURI = r
		if r != p.cfg.RedirectURI {
			fs.RedirectURI = r
		}
	}
	prompt := q.Get("prompt")
	for _, v := range strings.Fields(prompt) {
		if !slices.Contains(allowedPrompts, v) {
			return problem(http.StatusBadRequest, "invalid_request", "prompt must be a space-separated list of "+strings.Join(allowedPrompts, ", "), nil)
		}
	}
	loginHint := q.Get("login_hint")
	if len(loginHint) > maxLoginHintLen || !utf8.ValidString(loginHint) {
		return problem(http.StatusBadRequest, "invalid_request", fmt.Sprintf("login_hint must be valid UTF-8 of at most %d bytes", maxLoginHintLen), nil)
	}
	if a := q.Get("app_state"); a != "" {
		if len(a) > s.cfg.AppStateMax || !utf8.ValidString(a) {
			return problem(http.StatusBadRequest, "invalid_request", fmt.Sprintf("app_state must be valid UTF-8 of at most %d bytes (EDGEAUTH_APP_STATE_MAX)", s.cfg.AppStateMax), nil)
		}
		fs.AppState = a
	}
	if err := s.bind(c, &fs, q.Get("binding")); err != nil {
		return err
	}

	fs.Seed, err = newSeed()
	if err != nil {
		return err
	}
	state, err := s.codec.Seal(purposeState, fs, s.cfg.StateTTL)
	if err != nil {
		return fmt.Errorf("seal state: %w", err)
	}
	nonce, verifier := derive(fs.Seed)
	u, err := p.rp.AuthCodeURL(c.Request().Context(), oidc.AuthRequest{
		State:        state,
		Nonce:        nonce,
		CodeVerifier: verifier,
		RedirectURI:  redirectURI,
		Prompt:       prompt,
		LoginHint:    loginHint,
	})
	if err != nil {
		return providerProblem(err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, urlResponse{URL: u, State: state, ExpiresIn: int64(s.cfg.StateTTL / time.Second)})
}

// bind ties the flow to the user agent (RFC 9700 §2.1.1): with a `binding`
// value when the frontend sends one, else with a cookie. An existing valid
// cookie is reused so that two logins in two tabs do not break each other.
func (s *Server) bind(c echo.Context, fs *flowState, binding string) error {
	if s.cfg.Binding == "off" {
		return nil
	}
	if binding != "" {
		if len(binding) < minBindingLen || len(binding) > maxBindingLen {
			return problem(http.StatusBadRequest, "invalid_request", fmt.Sprintf("binding must be %d to %d characters (a random value the frontend keeps until /oauth2/token)", minBindingLen, maxBindingLen), nil)
		}
		fs.Binding, fs.BindingMode = bindingHash(binding), bindParam
		return nil
	}
	value := ""
	if ck, err := c.Cookie(bindingCookie); err == nil && validCookieValue(ck.Value) {
		value = ck.Value
	} else {
		b := make([]byte, 18)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("binding cookie: %w", err)
		}
		value = base64.RawURLEncoding.EncodeToString(b)
	}
	c.SetCookie(&http.Cookie{
		Name:     bindingCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   int(s.cfg.StateTTL / time.Second),
		Secure:   true,
		HttpOnly: true,
		SameSite: s.sameSite(),
	})
	fs.Binding, fs.BindingMode = bindingHash(value), bindCookie
	return nil
}

func validCookieValue(v string) bool {
	if len(v) != 24 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

func (s *Server) sameSite() http.SameSite {
	switch s.cfg.BindingCookieSameSite {
	case "strict":
		return http.SameSiteStrictMode
	case "none":
		return http.SameSiteNoneMode
	}
	return http.SameSiteLaxMode
}

type tokenRequest struct {
	Provider string `json:"provider"`
	Code     string `json:"code"`
	State    string `json:"state"`
	Iss      string `json:"iss"`
	Binding  string `json:"binding"`
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

// token finishes a login: open the state, check the binding, exchange the
// code, verify the identity, and mint API tokens.
func (s *Server) token(c echo.Context) error {
	// JSON only: a form post is a CORS "simple request" that any page can
	// send without a preflight, and the contract is JSON.
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
		return problem(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json: {provider, code, state, iss?, binding?}", nil)
	}
	var req tokenRequest
	if err := json.NewDecoder(c.Request().Body).Decode(&req); err != nil {
		return problem(http.StatusBadRequest, "invalid_request", "body must be a JSON object: {provider, code, state, iss?, binding?}", err)
	}
	switch {
	case req.Code == "" || len(req.Code) > maxCodeLen:
		return problem(http.StatusBadRequest, "invalid_request", fmt.Sprintf("code is required (at most %d characters)", maxCodeLen), nil)
	case req.State == "" || len(req.State) > maxStateLen:
		return problem(http.StatusBadRequest, "invalid_request", "state is required: the state the provider sent back with the code", nil)
	case len(req.Iss) > maxIssLen || len(req.Binding) > maxBindingLen:
		return problem(http.StatusBadRequest, "invalid_request", "iss or binding is too long", nil)
	}
	p, err := s.lookupProvider(req.Provider)
	if err != nil {
		return err
	}
	var fs flowState
	if err := s.codec.Open(purposeState, req.State, &fs); err != nil {
		if errors.Is(err, statecodec.ErrExpired) {
			return problem(http.StatusBadRequest, "expired_state", fmt.Sprintf("the login took longer than %s; start it again with GET /oauth2/url", s.cfg.StateTTL), nil)
		}
		return problem(http.StatusBadRequest, "invalid_state", "state was not issued by this service, was altered, or was sealed with a key it no longer has", nil)
	}
	if fs.Provider != p.cfg.Name {
		return problem(http.StatusBadRequest, "provider_mismatch", fmt.Sprintf("state was issued for provider %q, not %q", fs.Provider, p.cfg.Name), nil)
	}
	if err := s.checkBinding(c, fs, req.Binding); err != nil {
		return err
	}

	redirectURI := p.cfg.RedirectURI
	if fs.RedirectURI != "" {
		redirectURI = fs.RedirectURI
	}
	nonce, verifier := derive(fs.Seed)
	res, err := p.rp.Exchange(c.Request().Context(), oidc.ExchangeRequest{
		Code:         req.Code,
		CodeVerifier: verifier,
		RedirectURI:  redirectURI,
		Nonce:        nonce,
		Issuer:       req.Iss,
	})
	if err != nil {
		return providerProblem(err)
	}

	user, err := s.identify(c.Request().Context(), userhook.EventLogin, p, res.Identity)
	if err != nil {
		return err
	}
	api, err := s.mint(user, p, s.now(), res.Tokens.RefreshToken)
	if err != nil {
		return err
	}
	logoutURL, err := p.rp.LogoutURL(c.Request().Context(), oidc.LogoutRequest{IDTokenHint: res.Tokens.IDToken, PostLogoutRedirectURI: p.cfg.PostLogoutRedirectURI})
	if oe, ok := errors.AsType[*oidc.Error](err); ok && oe.Code == oidc.CodeUnsupported {
		logoutURL = ""
	} else if err != nil {
		s.log.Warn("logout url", "provider", p.cfg.Name, "error", err.Error())
		logoutURL = ""
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, tokenResponse{
		API: api,
		Provider: &providerTokens{
			AccessToken:  res.Tokens.AccessToken,
			TokenType:    res.Tokens.TokenType,
			IDToken:      res.Tokens.IDToken,
			RefreshToken: res.Tokens.RefreshToken,
			ExpiresIn:    res.Tokens.ExpiresIn,
			Scope:        res.Tokens.Scope,
			LogoutURL:    logoutURL,
		},
		User:     user.response(),
		AppState: fs.AppState,
	})
}

// checkBinding refuses a state that was started in another user agent, and
// says which binding it expected so that a developer knows what to check.
func (s *Server) checkBinding(c echo.Context, fs flowState, presented string) error {
	switch fs.BindingMode {
	case "":
		if s.cfg.Binding == "off" {
			return nil
		}
		return problem(http.StatusBadRequest, "binding_mismatch", "state carries no user-agent binding but EDGEAUTH_BINDING is on; start the login again", nil)
	case bindParam:
		switch {
		case presented == "":
			return problem(http.StatusBadRequest, "binding_mismatch", "this login was started with a `binding` value: send the same value as `binding` to /oauth2/token", nil)
		case !bindingMatches(fs.Binding, presented):
			return problem(http.StatusBadRequest, "binding_mismatch", "`binding` differs from the value sent to /oauth2/url: keep the value the frontend generated (e.g. in sessionStorage) until the callback", nil)
		}
		return nil
	case bindCookie:
		ck, err := c.Cookie(bindingCookie)
		switch {
		case err != nil:
			return problem(http.StatusBadRequest, "binding_mismatch", "this login is bound to the browser by the "+bindingCookie+" cookie that /oauth2/url set, and this request did not carry it. Check: the request goes to the same host as /oauth2/url; cross-origin calls use credentials: 'include' (fetch) and the origin is in EDGEAUTH_CORS_ORIGINS; SameSite allows the request (EDGEAUTH_BINDING_COOKIE_SAME_SITE); the page is served over https or http://localhost (the cookie is Secure); the login finished in the browser that started it. Cross-site SPAs and mobile apps should send a `binding` value instead", nil)
		case !bindingMatches(fs.Binding, ck.Value):
			return problem(http.StatusBadRequest, "binding_mismatch", "the "+bindingCookie+" cookie differs from the one set when this login started: it was started in another browser or profile, or the cookie was replaced; start the login again", nil)
		}
		return nil
	}
	return problem(http.StatusBadRequest, "invalid_state", "state has an unknown binding mode", nil)
}

// providerProblem maps an oidc error to its status: the client's fault is
// 4xx, the provider's 502. The oidc package's Detail is safe to show.
func providerProblem(err error) error {
	var oe *oidc.Error
	if !errors.As(err, &oe) {
		return problem(http.StatusBadGateway, "provider_unavailable", "the provider could not be reached", err)
	}
	status := http.StatusBadGateway
	if oe.Fault == oidc.FaultClient {
		status = http.StatusBadRequest
	}
	p := problem(status, string(oe.Code), oe.Detail, err)
	p.Check = oe.Check
	return p
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
