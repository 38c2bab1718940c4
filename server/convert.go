package server

import (
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/userhook"
)

type convertRequest struct {
	Provider  string `json:"provider"`
	Token     string `json:"token"`
	TokenType string `json:"token_type"`
	Nonce     string `json:"nonce"`
}

const convertShape = "{provider, token, token_type?, nonce?}"

// maxNonceLen bounds the nonce a native app sends with its ID token.
const maxNonceLen = 512

// convertToken turns a provider token that a native app got from the
// provider's SDK into API tokens. The oidc package decides whether the
// token proves a login at one of our clients (ID token audience, or who an
// access token was issued to); a token issued to another app is refused,
// or that app could log its users in here (token substitution).
func (s *Server) convertToken(c echo.Context) error {
	var req convertRequest
	if err := decodeJSON(c, &req, convertShape); err != nil {
		return err
	}
	if err := checkFields(
		field{name: "provider", value: req.Provider, max: maxProviderLen},
		field{name: "token", value: req.Token, max: maxTokenLen},
		field{name: "token_type", value: req.TokenType, max: 32, optional: true},
		field{name: "nonce", value: req.Nonce, max: maxNonceLen, optional: true},
	); err != nil {
		return err
	}
	if req.TokenType != "" && !slices.Contains([]string{"id_token", "access_token"}, req.TokenType) {
		return badRequest("token_type must be id_token or access_token (or absent, to detect it)")
	}
	p, err := s.lookupProvider(req.Provider)
	if err != nil {
		return err
	}
	noteProvider(c, p.cfg.Name)
	id, err := p.rp.Convert(c.Request().Context(), oidc.ConvertRequest{Token: req.Token, TokenType: req.TokenType, Nonce: req.Nonce})
	if err != nil {
		return providerProblem(err)
	}
	return s.finish(c, session{event: userhook.EventConvert, provider: p, identity: *id, start: s.now()}, nil, "")
}
