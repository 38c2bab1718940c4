// Package apitoken mints and verifies edgeauth's API access tokens (JWS,
// typ at+jwt, RFC 9068) and seals and opens its refresh tokens (statecodec
// JWE under keys derived from the state keys). /oauth2/token and
// /oauth2/refresh mint with it, /oauth2/verify and Go backends verify with
// it, and the JWKS endpoint publishes [Signer.JWKS].
//
//	keys, err := apitoken.ParseSigningKeys(os.Getenv("EDGEAUTH_SIGNING_KEYS"))
//	signer, err := apitoken.NewSigner(apitoken.SignerConfig{Keys: keys,
//		Issuer: "https://auth.example.com", Audience: "https://api.example.com", TTL: 15 * time.Minute})
//	access, expiresIn, err := signer.Mint(apitoken.Claims{Subject: "user-1", Provider: "google"})
//	v, err := signer.Verifier().Verify(access) // a backend: NewVerifier(jwk.Parse(jwksJSON), iss, aud, nil)
//	if errors.Is(err, apitoken.ErrExpired) { /* 401 expired_token */ }
//
//	refresh, err := apitoken.NewRefreshCodec(stateKeys, nil) // stateKeys from statecodec.ParseKeys
//	tok, err := refresh.Seal(apitoken.Session{Subject: v.Subject, Provider: "google", SessionStart: login}, 30*24*time.Hour)
//	sess, err := refresh.Open(tok) // ErrExpired or ErrInvalid on refusal
//
// Behaviour worth knowing: the first signing key signs and every key is
// published, so keys rotate by publishing first; Verify accepts only the
// algorithm of the key the kid names, only typ at+jwt, only the three header
// members alg, kid and typ, and allows [Leeway] of clock skew; claims the
// webhook sends under a registered name ([IsRegisteredClaim]) are dropped,
// never minted. Sender-constrained (DPoP, RFC 9449) tokens are prepared:
// [Claims.Confirmation] mints cnf.jkt, [Verified.Confirmation] reports it,
// and [Session.Confirmation] carries it through refresh; checking proofs is
// the caller's job.
package apitoken
