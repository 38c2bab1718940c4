package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/edgeauth/edgeauth/apitoken"
)

// verify is forward authentication for a proxy (nginx auth_request,
// Traefik forwardAuth, Caddy forward_auth): it checks an API access token
// exactly as a backend would, and answers 200 with the user in headers the
// proxy passes on, or 401 (RFC 6750 §3).
func (s *Server) verify(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	token, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
	if !ok {
		h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="edgeauth"`)
		return problem(http.StatusUnauthorized, CodeInvalidToken, "send the API access token as Authorization: Bearer <token>", nil)
	}
	v, err := s.verifier.Verify(token)
	if err == nil && v.Confirmation != "" {
		// A sender-constrained token is worthless without its proof
		// (RFC 9449 §7.1): as Bearer, it is refused.
		err = errors.New("token is DPoP-bound")
	}
	if err != nil {
		code, detail := CodeInvalidToken, "the access token is not valid here (signature, typ at+jwt, iss or aud); refresh tokens, states and provider tokens are not access tokens"
		if errors.Is(err, apitoken.ErrExpired) {
			code, detail = CodeExpiredToken, "the access token has expired: refresh it"
		}
		h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="edgeauth", error="invalid_token"`)
		return problem(http.StatusUnauthorized, code, detail, err)
	}
	h.Set("X-Auth-Request-User", headerSafe(v.Subject))
	if email, _ := v.Claims["email"].(string); email != "" {
		h.Set("X-Auth-Request-Email", headerSafe(email))
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(http.StatusOK)
	}
	return c.JSON(http.StatusOK, v.Claims)
}

// bearerToken reads "Bearer <token>" (the scheme is case-insensitive,
// RFC 9110 §11.1).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != "" && len(token) <= maxTokenLen
}

// headerSafe drops control characters, so a claim can never split a
// header the proxy forwards.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
