package secret

import (
	"bytes"
	"encoding/base64"
	"regexp"
)

// BuiltinRules returns tollgate's rule set, freshly allocated (callers may
// change what they get). Rules that look only at one kind of file (.npmrc,
// .netrc, …) come before the generic ones, so when two rules find the same
// value the more specific one reports it.
func BuiltinRules() []*Rule {
	mustRe := regexp.MustCompile
	exampleValue := AllowRule{ID: "aws-example", Description: "the example keys of AWS's documentation", Regex: mustRe(`EXAMPLE`)}
	return []*Rule{
		{ID: "npmrc-auth", Category: "npm", Title: "npm registry credentials in .npmrc", Severity: SeverityHigh,
			Path:     mustRe(`(?:^|/)\.npmrc$`),
			Keywords: []string{"_auth", "_password"},
			Regex:    mustRe(`(?m)^[ \t]*(?:\S*:)?_(?:authToken|auth|password)[ \t]*=[ \t]*["']?(?P<secret>[^\s"'$][^\s"']*)`),
			Why:      "An .npmrc with _authToken, _auth or _password lets anyone who reads the image publish or read packages as its owner.",
			Fix:      "Pass the token at build time with a secret mount (RUN --mount=type=secret,id=npmrc,target=/root/.npmrc) or reference it as ${NPM_TOKEN}, and do not copy .npmrc into the image."},
		{ID: "pypirc-password", Category: "PyPI", Title: "PyPI credentials in .pypirc", Severity: SeverityHigh,
			Path:     mustRe(`(?:^|/)\.pypirc$`),
			Keywords: []string{"password"},
			Regex:    mustRe(`(?m)^[ \t]*password[ \t]*[:=][ \t]*(?P<secret>[^\s$][^\s]*)`),
			Why:      "A .pypirc password or token uploads packages to the index as its owner.",
			Fix:      "Use a secret mount or the TWINE_PASSWORD environment variable of the upload job; keep .pypirc out of images."},
		{ID: "netrc-password", Category: "Generic", Title: "Password in .netrc", Severity: SeverityHigh,
			Path:     mustRe(`(?:^|/)[._]netrc$`),
			Keywords: []string{"password"},
			Regex:    mustRe(`(?:^|\s)password\s+(?P<secret>[^\s$]\S*)`),
			Why:      "curl, git, ftp and pip send .netrc passwords to the hosts named beside them; the file gives those logins to anyone with the image.",
			Fix:      "Mount .netrc as a build secret for the step that needs it instead of copying it into a layer."},
		{ID: "git-credentials", Category: "Git", Title: "Git credential store entry", Severity: SeverityHigh,
			Path:     mustRe(`(?:^|/)\.git-credentials$`),
			Keywords: []string{"://"},
			Regex:    mustRe(`(?m)^[ \t]*[A-Za-z][A-Za-z0-9+.-]*://[^:\s/@]*:(?P<secret>[^@\s]+)@`),
			Why:      "git's credential store keeps tokens in plain text; each line is a working login to a Git host.",
			Fix:      "Clone in a build stage with a secret mount or an SSH agent forward (RUN --mount=type=ssh), and never copy ~/.git-credentials into the final image."},
		{ID: "aws-access-key-id", Category: "AWS", Title: "AWS access key ID", Severity: SeverityCritical,
			Keywords:   []string{"akia", "asia", "abia", "acca", "a3t"},
			Regex:      mustRe(`\b(?P<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`),
			AllowRules: []AllowRule{exampleValue},
			Why:        "An access key ID is half of an AWS credential and usually sits next to the secret half; it also names the account.",
			Fix:        "Deactivate the key in IAM, then give the workload a role (IRSA, instance profile) instead of a static key."},
		{ID: "aws-secret-access-key", Category: "AWS", Title: "AWS secret access key", Severity: SeverityCritical,
			Keywords:   []string{"aws"},
			Regex:      mustRe(`(?i)\baws[a-z0-9_.-]{0,20}?(?:secret|key)[a-z0-9_.-]{0,12}["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=\n]|(?m:$))`),
			AllowRules: []AllowRule{exampleValue},
			Why:        "The secret access key signs AWS API requests; with the key ID it is full access to whatever the IAM user may do.",
			Fix:        "Rotate the key in IAM and use a role for the workload; never bake ~/.aws/credentials or AWS_SECRET_ACCESS_KEY into an image."},
		{ID: "gcp-service-account", Category: "Google", Title: "Google Cloud service account key", Severity: SeverityCritical,
			Keywords:  []string{"private_key_id"},
			alsoNeeds: `"service_account"`,
			Regex:     mustRe(`"private_key_id"[ \t]*:[ \t]*"(?P<secret>[a-f0-9]{40})"`),
			Why:       "A service account key file authenticates as the service account until the key is deleted; it does not expire.",
			Fix:       "Delete the key in IAM and use workload identity, or mount the key file from a Kubernetes secret at run time."},
		{ID: "gcp-api-key", Category: "Google", Title: "Google API key", Severity: SeverityHigh,
			Keywords: []string{"aiza"},
			Regex:    mustRe(`\b(?P<secret>AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_\n-]|(?m:$))`),
			Why:      "Google API keys are billed to their project and often unrestricted.",
			Fix:      "Restrict or regenerate the key in the Cloud console and load it from the environment at run time."},
		{ID: "azure-storage-account-key", Category: "Azure", Title: "Azure storage account key", Severity: SeverityCritical,
			Keywords: []string{"accountkey"},
			Regex:    mustRe(`(?i)AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)`),
			Why:      "A storage account key is full control of every container, queue and table of the account.",
			Fix:      "Rotate the key in the portal and use a managed identity or a short-lived SAS token instead."},
		{ID: "azure-client-secret", Category: "Azure", Title: "Azure AD (Entra ID) client secret", Severity: SeverityCritical,
			Keywords: []string{"q~"},
			Regex:    mustRe(`(?:(?m:^)|[^A-Za-z0-9_~.\n-])(?P<secret>[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:[^A-Za-z0-9_~.\n-]|(?m:$))`),
			Why:      "An application's client secret signs it in to Entra ID with every permission granted to the app.",
			Fix:      "Delete the secret in the app registration and use a managed identity or workload identity federation."},
		{ID: "github-pat", Category: "GitHub", Title: "GitHub personal access token", Severity: SeverityCritical,
			Keywords: []string{"ghp_"},
			Regex:    mustRe(`\b(?P<secret>ghp_[0-9A-Za-z]{36})\b`),
			Why:      "A classic personal access token acts as its owner on every repository and organisation it can reach.",
			Fix:      "Revoke the token in GitHub's developer settings; use a build secret or a GitHub App installation token for CI."},
		{ID: "github-fine-grained-pat", Category: "GitHub", Title: "GitHub fine-grained personal access token", Severity: SeverityCritical,
			Keywords: []string{"github_pat_"},
			Regex:    mustRe(`\b(?P<secret>github_pat_[0-9A-Za-z_]{82})\b`),
			Why:      "A fine-grained token acts as its owner on the repositories it was granted.",
			Fix:      "Revoke the token in GitHub's developer settings and pass tokens to builds as secrets."},
		{ID: "github-oauth", Category: "GitHub", Title: "GitHub OAuth access token", Severity: SeverityCritical,
			Keywords: []string{"gho_"},
			Regex:    mustRe(`\b(?P<secret>gho_[0-9A-Za-z]{36})\b`),
			Why:      "An OAuth token acts as the user who authorised the app, with the app's scopes.",
			Fix:      "Revoke the authorisation and keep tokens out of image layers."},
		{ID: "github-app-token", Category: "GitHub", Title: "GitHub App token", Severity: SeverityCritical,
			Keywords: []string{"ghu_", "ghs_"},
			Regex:    mustRe(`\b(?P<secret>(?:ghu|ghs)_[0-9A-Za-z]{36})\b`),
			Why:      "A GitHub App user or installation token acts with the app's permissions until it expires.",
			Fix:      "Mint installation tokens at run time instead of storing them."},
		{ID: "github-refresh-token", Category: "GitHub", Title: "GitHub refresh token", Severity: SeverityCritical,
			Keywords: []string{"ghr_"},
			Regex:    mustRe(`\b(?P<secret>ghr_[0-9A-Za-z]{76})\b`),
			Why:      "A refresh token mints new user tokens for a GitHub App.",
			Fix:      "Revoke the app authorisation and keep refresh tokens in a secret store."},
		{ID: "gitlab-pat", Category: "GitLab", Title: "GitLab personal access token", Severity: SeverityCritical,
			Keywords: []string{"glpat-"},
			Regex:    mustRe(`\b(?P<secret>glpat-[0-9A-Za-z_.-]{20,64})(?:[^0-9A-Za-z_.\n-]|(?m:$))`),
			Why:      "A GitLab personal access token acts as its owner with the token's scopes.",
			Fix:      "Revoke the token under User Settings > Access Tokens and use CI job tokens or deploy tokens passed as secrets."},
		{ID: "slack-access-token", Category: "Slack", Title: "Slack token", Severity: SeverityHigh,
			Keywords: []string{"xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"},
			Regex:    mustRe(`\b(?P<secret>xox[baprs]-[0-9]{10,13}-[0-9A-Za-z-]{10,250})`),
			Why:      "A Slack bot or user token reads and posts in every channel the token's owner can see.",
			Fix:      "Revoke the token in the Slack app's settings and load it from a secret at run time."},
		{ID: "slack-web-hook", Category: "Slack", Title: "Slack incoming webhook", Severity: SeverityMedium,
			Keywords: []string{"hooks.slack.com"},
			Regex:    mustRe(`https://hooks\.slack\.com/services/(?P<secret>T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24})`),
			Why:      "Anyone with the webhook URL can post messages to the channel as the integration.",
			Fix:      "Regenerate the webhook URL and keep it in a secret."},
		{ID: "stripe-secret-token", Category: "Stripe", Title: "Stripe secret or restricted key", Severity: SeverityCritical,
			Keywords: []string{"sk_live_", "rk_live_", "sk_test_", "rk_test_"},
			Regex:    mustRe(`\b(?P<secret>(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,99})\b`),
			Why:      "A secret key moves money and reads customer data (test-mode keys read test data).",
			Fix:      "Roll the key in the Stripe dashboard and load it from a secret at run time."},
		{ID: "npm-access-token", Category: "npm", Title: "npm access token", Severity: SeverityCritical,
			Keywords: []string{"npm_"},
			Regex:    mustRe(`\b(?P<secret>npm_[A-Za-z0-9]{36})\b`),
			Why:      "An npm token publishes packages as its owner: a supply-chain compromise of everyone who installs them.",
			Fix:      "Revoke the token with npm token revoke and use a build secret or granular, read-only tokens for installs."},
		{ID: "pypi-upload-token", Category: "PyPI", Title: "PyPI upload token", Severity: SeverityCritical,
			Keywords: []string{"pypi-ageichlwas5vcmc"},
			Regex:    mustRe(`\b(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})`),
			Why:      "A PyPI token uploads releases of the projects it is scoped to.",
			Fix:      "Delete the token in the PyPI account settings; publish with trusted publishing (OIDC) instead."},
		{ID: "private-key", Category: "AsymmetricPrivateKey", Title: "Asymmetric private key", Severity: SeverityCritical,
			Keywords: []string{"private key"},
			Regex:    mustRe(`-----BEGIN ?(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\\n|\s)*(?P<secret>(?:[A-Za-z-]+: [^\n\\]*(?:\\n|\n))*(?:\\n|\s)*[A-Za-z0-9+/=\\\s]{64,}?)(?:\\n|\s)*-----END ?(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----`),
			Why:      "A private key (TLS, SSH, signing) impersonates its owner; a copy left in any layer is a copy anyone who pulls the image has.",
			Fix:      "Revoke or replace the key; mount keys at run time (Kubernetes secret, SSH agent forwarding with RUN --mount=type=ssh for builds). Deleting it in a later layer does not remove it."},
		{ID: "jwt-token", Category: "JWT", Title: "JSON Web Token", Severity: SeverityMedium,
			Keywords: []string{"eyj"},
			Regex:    mustRe(`\b(?P<secret>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})`),
			AllowRules: []AllowRule{{ID: "jwt-io-example", Description: "the example token of jwt.io and RFC 7519 tutorials",
				Regex: mustRe(`SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`)}},
			Why: "A signed token is a bearer credential until it expires, and many are issued without expiry.",
			Fix: "Revoke the token at its issuer (or rotate the signing key) and fetch tokens at run time."},
		{ID: "dockerconfig-secret", Category: "Docker", Title: "Docker registry credentials (config.json auths)", Severity: SeverityHigh,
			Keywords: []string{`"auth"`},
			Regex:    mustRe(`"auth"\s*:\s*"(?P<secret>[A-Za-z0-9+/]{4,}={0,2})"`),
			valid:    isUserPassword,
			Why:      `A Docker config.json "auth" is base64 of user:password (or token) for the registry it is listed under.`,
			Fix:      "Log in with a credential helper, or mount the config as a build secret; remove ~/.docker/config.json from the image and rotate the password."},
		{ID: "basic-auth-url", Category: "Generic", Title: "Password in a URL", Severity: SeverityHigh,
			Keywords: []string{"://"},
			Regex:    mustRe(`\b[A-Za-z][A-Za-z0-9+.-]{1,15}://[^\s:/@'"<>{}$]{1,100}:(?P<secret>[^\s:/@'"<>{}$]{3,100})@[A-Za-z0-9][A-Za-z0-9.-]*`),
			Why:      "A user:password in a URL (a Git remote, a package index, a database DSN) is a working login written in clear.",
			Fix:      "Move the password out of the URL: a credential helper, a netrc mounted as a build secret, or an environment variable set at run time."},
		{ID: "env-credential", Category: "Generic", Title: "Credential assigned to a variable", Severity: SeverityMedium,
			Keywords: []string{"password", "passwd", "secret", "token", "api_key", "apikey", "access_key", "private_key", "auth_key"},
			Regex:    mustRe(`(?:(?m:^)|[^A-Za-z0-9_\n])(?P<key>[A-Z][A-Z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|APIKEY|API_KEY|ACCESS_KEY|PRIVATE_KEY|SECRET_KEY|AUTH_KEY))=["']?(?P<secret>[^\s"'$;&|()\[\]{}<>` + "`" + `,\\]{4,})`),
			Why:      "A password or token given as a literal value (ENV, ARG, an env file, a shell script) is readable by anyone with the image: docker inspect shows ENV, docker history shows build arguments.",
			Fix:      "Pass secrets at run time (a Kubernetes secret as env or file) or at build time with RUN --mount=type=secret; reference variables (${TOKEN}) instead of literal values."},
	}
}

// isUserPassword reports whether a base64 value decodes to user:password
// with both parts present, as Docker's "auth" field holds.
func isUserPassword(v []byte) bool {
	dec := make([]byte, base64.StdEncoding.DecodedLen(len(v)))
	n, err := base64.StdEncoding.Decode(dec, v)
	if err != nil {
		return false
	}
	user, pass, ok := bytes.Cut(dec[:n], []byte(":"))
	return ok && len(user) > 0 && len(pass) > 0
}

// BuiltinAllowRules returns the allow rules that exempt every rule's matches: test fixtures, package
// documentation and placeholder values. Their IDs can be switched off with
// disable-allow-rules in a secret config.
func BuiltinAllowRules() []AllowRule {
	mustRe := regexp.MustCompile
	return []AllowRule{
		{ID: "tests", Description: "test fixture directories (testdata/, test/fixtures/, __fixtures__/ …)",
			Path: mustRe(`(?:^|/)(?:testdata|__fixtures__|__snapshots__|(?:test|tests|spec)/fixtures)/`)},
		{ID: "docs", Description: "distribution documentation, manual pages and translations",
			Path: mustRe(`(?:^|/)usr/share/(?:doc|man|locale|info)/`)},
		{ID: "placeholders", Description: "placeholder values: xxx, ***, <…>, {{ … }}, none, your_…, replace_me, and the words pass, password, secret, token, example, test used as values",
			Regex: mustRe(`(?i)^(?:x{3,}|\*{3,}|\.{3,}|<[^>]*>|\{\{.*\}\}|%[sv]|none|null|nil|true|false|undefined|empty|redacted|placeholder|your[_-]\w*|replace[_-]?me|pass|passwd|password|pwd|secret|token|example|test)$`)},
	}
}
