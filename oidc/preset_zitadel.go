package oidc

import (
	"slices"
	"strings"
)

// ZITADEL (https://zitadel.com/docs/apis/openidoauth/endpoints,
// https://zitadel.com/docs/apis/openidoauth/claims). BASE_URL is the
// instance, https://<instance>.zitadel.cloud or its custom domain; that
// URL is the issuer.
//
// ZITADEL's ID tokens name the project besides the client in aud (and
// azp = the client id). edgeauth refuses an audience it was not told to
// trust (OpenID Connect Core §3.1.3.7 step 3), so the project's id goes
// into EDGEAUTH_<NAME>_TRUSTED_AUDIENCES; without it every login fails,
// with a message that names the id to add.
//
// Discovery advertises introspection, so convert-token accepts access
// tokens through RFC 7662; ZITADEL answers introspection only to an
// authenticated client of the same project (client secret with
// CLIENT_AUTH=basic, or a JWT profile, which edgeauth does not make).
// Revocation and end_session are advertised too.
func zitadelPreset() preset {
	return preset{
		cfg: Config{Type: TypeOIDC},
		needIssuer: "zitadel: set BASE_URL to the instance, https://<instance>.zitadel.cloud " +
			"or its custom domain",
		quirks: quirks{checkIssuer: checkZitadelClaims},
	}
}

// checkZitadelClaims checks iss exactly, as for any provider, and then
// explains ZITADEL's project audience: a verified token for our client
// that also names an untrusted audience would be refused by the generic
// check in terms that do not say what to configure.
func checkZitadelClaims(p *Provider, c map[string]any) error {
	if iss, _ := c["iss"].(string); iss != p.cfg.Issuer {
		return newError(CodeInvalidIDToken, "iss", nil, "iss: expected %s, got %s", clip(p.cfg.Issuer), clip(claimString(c, "iss")))
	}
	aud, ok := audiences(c["aud"])
	ours := append([]string{p.cfg.ClientID}, p.cfg.ConvertAudiences...)
	if !ok || !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(ours, a) }) {
		return nil // the generic aud check refuses it
	}
	for _, a := range aud {
		if !slices.Contains(ours, a) && !slices.Contains(p.cfg.TrustedAudiences, a) {
			return newError(CodeInvalidIDToken, "aud", nil,
				"aud: the token also names %s, the ZITADEL project of client %s if it is yours: add it to TRUSTED_AUDIENCES (EDGEAUTH_%s_TRUSTED_AUDIENCES)",
				clip(a), clip(p.cfg.ClientID), strings.ToUpper(p.cfg.Name))
		}
	}
	return nil
}
