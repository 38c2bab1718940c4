package server

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// bindingCookie holds the user-agent binding in cookie mode. The __Host-
// prefix makes the browser refuse it unless it is Secure, host-only and
// Path=/ (RFC 6265bis §4.1.3.2), so a sibling subdomain cannot plant one.
const bindingCookie = "__Host-edgeauth-binding"

// bind ties the flow to the user agent (RFC 9700 §2.1.1): with a `binding`
// value when the frontend sends one, else with a cookie. An existing valid
// cookie is reused so that two logins in two tabs do not break each other.
func (s *Server) bind(c echo.Context, fs *flowState, binding string) error {
	if s.cfg.BindingOff {
		return nil
	}
	if binding != "" {
		if len(binding) < minBindingLen || len(binding) > maxBindingLen {
			return badRequest(fmt.Sprintf("binding must be %d to %d characters (a random value the frontend keeps until /oauth2/token)", minBindingLen, maxBindingLen))
		}
		fs.Binding, fs.BindingMode = bindingHash(binding), bindParam
		return nil
	}
	value := randomValue()
	if ck, err := c.Cookie(bindingCookie); err == nil && validCookieValue(ck.Value) {
		value = ck.Value
	}
	s.setBindingCookie(c, value)
	fs.Binding, fs.BindingMode = bindingHash(value), bindCookie
	return nil
}

// randomValue is 144 random bits, base64url: a binding cookie value or a
// logout state.
func randomValue() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) setBindingCookie(c echo.Context, value string) {
	c.SetCookie(&http.Cookie{
		Name:     bindingCookie,
		Value:    value,
		Path:     "/",
		MaxAge:   int(s.cfg.StateTTL / time.Second),
		Secure:   true,
		HttpOnly: true,
		SameSite: s.cfg.BindingSameSite,
	})
}

func validCookieValue(v string) bool {
	if len(v) != 24 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

// checkBinding refuses a state that was started in another user agent, and
// says which binding it expected so that a developer knows what to check.
func (s *Server) checkBinding(c echo.Context, fs flowState, presented string) error {
	switch fs.BindingMode {
	case "":
		if s.cfg.BindingOff {
			return nil
		}
		return problem(http.StatusBadRequest, CodeBindingMismatch, "state carries no user-agent binding but EDGEAUTH_BINDING is on; start the login again", nil)
	case bindParam:
		switch {
		case presented == "":
			return problem(http.StatusBadRequest, CodeBindingMismatch, "this login was started with a `binding` value: send the same value as `binding` to /oauth2/token", nil)
		case !bindingMatches(fs.Binding, presented):
			return problem(http.StatusBadRequest, CodeBindingMismatch, "`binding` differs from the value sent to /oauth2/url: keep the value the frontend generated (e.g. in sessionStorage) until the callback", nil)
		}
		return nil
	case bindCookie:
		ck, err := c.Cookie(bindingCookie)
		switch {
		case err != nil:
			return problem(http.StatusBadRequest, CodeBindingMismatch, "this login is bound to the browser by the "+bindingCookie+" cookie that /oauth2/url set, and this request did not carry it. Check: the request goes to the same host as /oauth2/url; cross-origin calls use credentials: 'include' (fetch) and the origin is in EDGEAUTH_CORS_ORIGINS; SameSite allows the request (EDGEAUTH_BINDING_COOKIE_SAME_SITE); the page is served over https or http://localhost (the cookie is Secure); the login finished in the browser that started it. Cross-site SPAs and mobile apps should send a `binding` value instead", nil)
		case !bindingMatches(fs.Binding, ck.Value):
			return problem(http.StatusBadRequest, CodeBindingMismatch, "the "+bindingCookie+" cookie differs from the one set when this login started: it was started in another browser or profile, or the cookie was replaced; start the login again", nil)
		}
		return nil
	}
	return problem(http.StatusBadRequest, CodeInvalidState, "state has an unknown binding mode", nil)
}
