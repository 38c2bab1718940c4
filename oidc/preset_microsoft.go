package oidc

// Microsoft identity platform v2.0. The multi-tenant "common" and
// "organizations" documents publish a templated issuer
// (https://login.microsoftonline.com/{tenantid}/v2.0) that no exact
// comparison can match, so the issuer must name one tenant:
// https://login.microsoftonline.com/<tenant-id>/v2.0 (personal
// accounts: tenant 9188040d-6c67-4c5b-b112-36a304b66dad). A
// multi-tenant app configures one provider per tenant.
func microsoftPreset() preset {
	return preset{
		cfg: Config{Type: TypeOIDC},
		needIssuer: "microsoft: set the issuer to https://login.microsoftonline.com/<tenant-id>/v2.0; " +
			"the multi-tenant endpoints publish a templated issuer that cannot be checked exactly",
	}
}
