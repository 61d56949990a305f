package dockerfile

import (
	"slices"
	"strconv"
	"strings"
)

// --- FROM -------------------------------------------------------------------

// untaggedFrom is DL3006.
type untaggedFrom struct{ aliases map[string]bool }

func newUntaggedFrom(*ruleEnv) checker { return &untaggedFrom{aliases: map[string]bool{}} }

func (u *untaggedFrom) check(in *Instruction, r *reporter) {
	if in.Kind != KindFrom {
		return
	}
	f := in.From
	img := f.Image()
	if f.Tag == "" && f.Digest == "" && img != "scratch" && !strings.HasPrefix(img, "$") && !u.aliases[img] {
		r.add(in.Line)
	}
	if f.Alias != "" {
		u.aliases[f.Alias] = true
	}
}

func (u *untaggedFrom) done(*reporter) {}

func checkLatestTag(in *Instruction, _ *ruleEnv) bool {
	return in.Kind != KindFrom || in.From.Tag != "latest" || in.From.Digest != ""
}

func checkFromPlatform(in *Instruction, _ *ruleEnv) bool {
	if in.Kind != KindFrom || in.From.Platform == "" {
		return true
	}
	return containsAny(in.From.Platform, "BUILDPLATFORM", "TARGETPLATFORM")
}

func checkRedundantPlatform(in *Instruction, _ *ruleEnv) bool {
	if in.Kind != KindFrom {
		return true
	}
	return in.From.Platform != "$TARGETPLATFORM" && in.From.Platform != "${TARGETPLATFORM}"
}

func checkReservedAlias(in *Instruction, _ *ruleEnv) bool {
	return in.Kind != KindFrom || (in.From.Alias != "scratch" && in.From.Alias != "context")
}

// duplicateAlias is DL3024.
type duplicateAlias struct{ seen map[string]bool }

func newDuplicateAlias(*ruleEnv) checker { return &duplicateAlias{seen: map[string]bool{}} }

func (d *duplicateAlias) check(in *Instruction, r *reporter) {
	if in.Kind != KindFrom || in.From.Alias == "" {
		return
	}
	if d.seen[in.From.Alias] {
		r.add(in.Line)
	}
	d.seen[in.From.Alias] = true
}

func (d *duplicateAlias) done(*reporter) {}

// beforeFrom is DL3061.
type beforeFrom struct{ seenFrom bool }

func newBeforeFrom(*ruleEnv) checker { return &beforeFrom{} }

func (b *beforeFrom) check(in *Instruction, r *reporter) {
	switch {
	case in.Kind == KindFrom:
		b.seenFrom = true
	case !b.seenFrom && in.Kind != KindArg:
		r.add(in.Line)
	}
}

func (b *beforeFrom) done(*reporter) {}

// trustedRegistry is DL3026.
type trustedRegistry struct {
	allowed []string
	aliases map[string]bool
}

func newTrustedRegistry(env *ruleEnv) checker {
	return &trustedRegistry{allowed: env.cfg.TrustedRegistries, aliases: map[string]bool{}}
}

func (t *trustedRegistry) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindFrom:
		ok := t.trusted(in.From.Ref)
		if in.From.Alias != "" {
			t.aliases[in.From.Alias] = true
		}
		if !ok {
			r.add(in.Line)
		}
	case KindCopy:
		if in.Copy.From != "" && !t.trusted(in.Copy.From) {
			r.add(in.Line)
		}
	case KindRun:
		for _, m := range in.Run.Mounts {
			if m.Type != "cache" && m.Type != "bind" {
				continue
			}
			from := m.From
			if from == "" {
				from = "scratch"
			}
			if !t.trusted(from) {
				r.add(in.Line)
				return
			}
		}
	}
}

func (t *trustedRegistry) done(*reporter) {}

func (t *trustedRegistry) trusted(ref string) bool {
	img := parseImageRef(ref)
	if t.aliases[img.Image()] || t.aliases[ref] {
		return true
	}
	if img.Registry == "" {
		return img.Name == "scratch" || slices.Contains(t.allowed, "docker.io") || slices.Contains(t.allowed, "hub.docker.com") || slices.Contains(t.allowed, "*")
	}
	for _, a := range t.allowed {
		if registryMatches(a, img.Registry) {
			return true
		}
	}
	return false
}

// registryMatches matches a registry against a trusted-registry pattern:
// "*" matches all, "*.example.com" any registry ending in ".example.com",
// "prefix*" a prefix; anything else must be equal.
func registryMatches(pattern, registry string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(registry, pattern[1:])
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(registry, strings.TrimSuffix(pattern, "*"))
	}
	return pattern == registry
}

// --- USER ---------------------------------------------------------------------

func isRootUser(u string) bool {
	u = dropQuotes(strings.TrimSpace(u))
	name, _, _ := strings.Cut(u, ":")
	return name == "root" || name == "0"
}

// lastUserRoot is DL3002.
type lastUserRoot struct {
	line int // line of the stage's last USER, 0 when none
	root bool
}

func newLastUserRoot(*ruleEnv) checker { return &lastUserRoot{} }

func (l *lastUserRoot) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindFrom:
		l.done(r)
		l.line, l.root = 0, false
	case KindUser:
		l.line, l.root = in.Line, isRootUser(in.Text())
	}
}

func (l *lastUserRoot) done(r *reporter) {
	if l.line > 0 && l.root {
		r.add(l.line)
	}
	l.line = 0
}

// numericUser is DL3066.
type numericUser struct{ args map[string]bool }

func newNumericUser(*ruleEnv) checker { return &numericUser{args: map[string]bool{}} }

func (n *numericUser) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindArg:
		for _, kv := range in.Pairs {
			n.args[kv.Key] = true
		}
	case KindUser:
		user, _, _ := strings.Cut(dropQuotes(strings.TrimSpace(in.Text())), ":")
		if isDigits(user) {
			return
		}
		for a := range n.args {
			if strings.Contains(user, "$"+a) || strings.Contains(user, "${"+a+"}") {
				return
			}
		}
		r.add(in.Line)
	}
}

func (n *numericUser) done(*reporter) {}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// --- WORKDIR, COPY, ADD -----------------------------------------------------------

// isAbsolutePath accepts /path, a variable, or a Windows drive (C:, c:\, d:/).
func isAbsolutePath(p string) bool {
	p = dropQuotes(p)
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "$") {
		return true
	}
	return len(p) >= 2 && p[1] == ':' && ((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z'))
}

func checkWorkdirAbsolute(in *Instruction, _ *ruleEnv) bool {
	return in.Kind != KindWorkdir || isAbsolutePath(in.Text())
}

func checkCopyDestSlash(in *Instruction, _ *ruleEnv) bool {
	if in.Kind != KindCopy || len(in.Copy.Sources) < 2 {
		return true
	}
	return strings.HasSuffix(dropQuotes(in.Copy.Dest), "/")
}

func checkAddForArchives(in *Instruction, _ *ruleEnv) bool {
	if in.Kind != KindAdd {
		return true
	}
	for _, s := range in.Copy.Sources {
		s = dropQuotes(s)
		if strings.HasPrefix(s, "<<") {
			continue // heredoc
		}
		if !isArchive(s) && !hasAnyPrefix(s, "http://", "https://") {
			return false
		}
	}
	return true
}

func checkCopyRootToRoot(in *Instruction, _ *ruleEnv) bool {
	if in.Kind != KindCopy || in.Copy.From == "" {
		return true
	}
	return !(len(in.Copy.Sources) == 1 && dropQuotes(in.Copy.Sources[0]) == "/" && dropQuotes(in.Copy.Dest) == "/")
}

// copyFromStage is DL3022.
type copyFromStage struct {
	aliases map[string]bool
	froms   int
}

func newCopyFromStage(*ruleEnv) checker { return &copyFromStage{aliases: map[string]bool{}} }

func (c *copyFromStage) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindFrom:
		c.froms++
		if in.From.Alias != "" {
			c.aliases[in.From.Alias] = true
		}
	case KindCopy:
		src := in.Copy.From
		if src == "" || strings.Contains(src, ":") || c.aliases[src] {
			return
		}
		if n, err := strconv.Atoi(src); err == nil && n >= 0 && n < c.froms {
			return
		}
		r.add(in.Line)
	}
}

func (c *copyFromStage) done(*reporter) {}

// copyFromSelf is DL3023.
type copyFromSelf struct{ alias string }

func newCopyFromSelf(*ruleEnv) checker { return &copyFromSelf{} }

func (c *copyFromSelf) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindFrom:
		c.alias = in.From.Alias
	case KindCopy:
		if c.alias != "" && in.Copy.From == c.alias {
			r.add(in.Line)
		}
	}
}

func (c *copyFromSelf) done(*reporter) {}

// copyRelativeDest is DL3045: the WORKDIR state of a stage carries over to
// stages built FROM it.
type copyRelativeDest struct {
	workdir map[string]bool
	stage   string
}

func newCopyRelativeDest(*ruleEnv) checker { return &copyRelativeDest{workdir: map[string]bool{}} }

func (c *copyRelativeDest) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindFrom:
		inherited := c.workdir[in.From.Image()]
		c.stage = in.From.StageName()
		c.workdir[c.stage] = inherited
	case KindWorkdir:
		c.workdir[c.stage] = true
	case KindCopy:
		if c.workdir[c.stage] {
			return
		}
		d := dropQuotes(in.Copy.Dest)
		if strings.HasPrefix(d, "/") || strings.HasPrefix(d, "$") {
			return
		}
		if len(d) > 1 && (strings.HasPrefix(d[1:], `:\`) || strings.HasPrefix(d[1:], ":/")) {
			return
		}
		r.add(in.Line)
	}
}

func (c *copyRelativeDest) done(*reporter) {}

// --- EXPOSE, HEALTHCHECK, CMD, ENTRYPOINT --------------------------------------------

func checkExposeRange(in *Instruction, _ *ruleEnv) bool {
	if in.Kind != KindExpose {
		return true
	}
	for _, a := range in.Args {
		port, _, _ := strings.Cut(a, "/")
		for _, p := range strings.Split(port, "-") {
			n, err := strconv.Atoi(p)
			if err == nil && n > 65535 {
				return false
			}
		}
	}
	return true
}

// repeated reports every instruction of a kind after the first in a stage
// (DL3012, DL4003, DL4004).
type repeated struct {
	kind Kind
	seen bool
}

func newRepeated(k Kind) func(*ruleEnv) checker {
	return func(*ruleEnv) checker { return &repeated{kind: k} }
}

func (c *repeated) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindFrom:
		c.seen = false
	case c.kind:
		if c.seen {
			r.add(in.Line)
		}
		c.seen = true
	}
}

func (c *repeated) done(*reporter) {}

func checkExecForm(in *Instruction, _ *ruleEnv) bool {
	switch in.Kind {
	case KindCmd, KindEntrypoint:
		return in.JSON || len(in.Args) == 0
	case KindHealthcheck:
		if len(in.Args) == 0 || !strings.EqualFold(in.Args[0], "CMD") {
			return true
		}
		return in.JSON
	}
	return true
}

// missingHealthcheck is DL3057. A stage without HEALTHCHECK is fine when a
// stage it is built FROM has one.
type missingHealthcheck struct {
	stages []hcStage
	byName map[string]int
}

type hcStage struct {
	line   int
	parent int
	has    bool
}

func newMissingHealthcheck(*ruleEnv) checker { return &missingHealthcheck{byName: map[string]int{}} }

func (m *missingHealthcheck) check(in *Instruction, _ *reporter) {
	switch in.Kind {
	case KindFrom:
		parent := -1
		if i, ok := m.byName[in.From.Image()]; ok {
			parent = i
		}
		m.stages = append(m.stages, hcStage{line: in.Line, parent: parent})
		m.byName[in.From.StageName()] = len(m.stages) - 1
	case KindHealthcheck:
		if len(m.stages) > 0 {
			m.stages[len(m.stages)-1].has = true
		}
	}
}

func (m *missingHealthcheck) done(r *reporter) {
	// A stage's parent always comes before it, so one pass settles
	// every stage.
	good := make([]bool, len(m.stages))
	for i, s := range m.stages {
		good[i] = s.has || (s.parent >= 0 && s.parent < i && good[s.parent])
		if !good[i] {
			r.add(s.line)
		}
	}
}

// --- pragmas ---------------------------------------------------------------------

// checkInlinePragmas is DL1001: it reports the line of every inline ignore
// pragma of the file.
func checkInlinePragmas(env *ruleEnv, r *reporter) {
	if env.pragmas == nil {
		return
	}
	for _, line := range env.pragmas.inlineLines {
		r.add(line)
	}
}

// --- ONBUILD -------------------------------------------------------------------

func checkOnbuildInner(in *Instruction, _ *ruleEnv) bool {
	if in.Kind != KindOnbuild || in.Inner == nil {
		return true
	}
	switch in.Inner.Kind {
	case KindOnbuild, KindFrom, KindMaintainer:
		return false
	}
	return true
}

// --- ENV, ARG --------------------------------------------------------------------

// envSelfReference is DL3044.
type envSelfReference struct{ defined map[string]bool }

func newEnvSelfReference(*ruleEnv) checker { return &envSelfReference{defined: map[string]bool{}} }

func (e *envSelfReference) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindArg:
		for _, kv := range in.Pairs {
			e.defined[kv.Key] = true
		}
	case KindEnv:
		count := make(map[string]int, len(in.Pairs))
		for _, kv := range in.Pairs {
			count[kv.Key]++
		}
		bad := false
		for _, kv := range in.Pairs {
			for _, name := range referencedNames(kv.Value) {
				// A reference to a key of this ENV that was not defined
				// before, other than a pair's reference to itself.
				if count[name] > 0 && !e.defined[name] && (name != kv.Key || count[name] > 1) {
					bad = true
				}
			}
		}
		for _, kv := range in.Pairs {
			e.defined[kv.Key] = true
		}
		if bad {
			r.add(in.Line)
		}
	}
}

func (e *envSelfReference) done(*reporter) {}

// referencedNames returns the variables text references as ${name} or as
// $name (the longest run of name characters after the $).
func referencedNames(text string) []string {
	var out []string
	for i := 0; i < len(text); i++ {
		if text[i] != '$' || i+1 >= len(text) {
			continue
		}
		if text[i+1] == '{' {
			end := strings.IndexByte(text[i+2:], '}')
			if end < 0 {
				continue
			}
			name := text[i+2 : i+2+end]
			if name != "" && strings.IndexFunc(name, func(c rune) bool { return c > 127 || !isNameChar(byte(c)) }) < 0 {
				out = append(out, name)
			}
			i += 2 + end
			continue
		}
		j := i + 1
		for j < len(text) && isNameChar(text[j]) {
			j++
		}
		if j > i+1 {
			out = append(out, text[i+1:j])
		}
		i = j - 1
	}
	return out
}

func isNameChar(c byte) bool {
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

var secretNames = map[string]bool{
	"ACCESS_TOKEN": true, "APPLICATION_KEY": true, "APP_SECRET": true, "AUTH_TOKEN": true,
	"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "BITTREX_API_KEY": true,
	"BITTREX_API_SECRET": true, "CF_PASSWORD": true, "CF_USERNAME": true, "CIRCLE_TOKEN": true,
	"CI_DEPLOY_PASSWORD": true, "CI_DEPLOY_USER": true, "DOCKERHUB_PASSWORD": true, "DOCKER_EMAIL": true,
	"DOCKER_PASSWORD": true, "DOCKER_USERNAME": true, "FACEBOOK_ACCESS_TOKEN": true,
	"FACEBOOK_APP_ID": true, "FACEBOOK_APP_SECRET": true, "FIREBASE_API_TOKEN": true,
	"FIREBASE_TOKEN": true, "FOSSA_API_KEY": true, "GH_ENTERPRISE_TOKEN": true, "GH_TOKEN": true,
	"GITHUB_ENTERPRISE_TOKEN": true, "GITHUB_TOKEN": true, "HEROKU_API_KEY": true,
	"HEROKU_API_USER": true, "NPM_AUTH_TOKEN": true, "NPM_TOKEN": true, "OKTA_AUTHN_GROUPID": true,
	"OKTA_CLIENT_ORGURL": true, "OKTA_CLIENT_TOKEN": true, "OKTA_OAUTH2_CLIENTID": true,
	"OKTA_OAUTH2_CLIENTSECRET": true, "OPENAI_API_KEY": true, "OS_PASSWORD": true, "OS_USERNAME": true,
	"POSTGRES_PASSWORD": true, "SLACK_TOKEN": true, "STRIPE_API_KEY": true, "STRIPE_DEVICE_NAME": true,
	"TRAVIS_OS_NAME": true, "TRAVIS_SECURE_ENV_VARS": true, "TRAVIS_SUDO": true,
	"VAULT_CLIENT_KEY": true, "VAULT_TOKEN": true,
}

func isSecretName(name string) bool {
	if secretNames[strings.ToUpper(name)] {
		return true
	}
	return containsAny(strings.ToLower(name), "api_key", "client_key", "password", "private", "secret", "token", "username")
}

func checkSecretVariables(in *Instruction, _ *ruleEnv) bool {
	if in.Kind != KindArg && in.Kind != KindEnv {
		return true
	}
	for _, kv := range in.Pairs {
		if isSecretName(kv.Key) {
			return false
		}
	}
	return true
}

// --- LABEL ---------------------------------------------------------------------

var reservedLabelPrefixes = []string{"com.docker.", "io.docker.", "org.dockerproject."}

func validLabelKey(k string) bool {
	if k == "" || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	last := k[len(k)-1]
	if !((last >= 'a' && last <= 'z') || (last >= '0' && last <= '9')) {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == '/') {
			return false
		}
	}
	return !hasAnyPrefix(k, reservedLabelPrefixes...) && !strings.Contains(k, "..") && !strings.Contains(k, "--")
}

func checkLabelKeys(in *Instruction, _ *ruleEnv) bool {
	if in.Kind != KindLabel {
		return true
	}
	for _, kv := range in.Pairs {
		if !validLabelKey(kv.Key) {
			return false
		}
	}
	return true
}

func checkStrictLabels(in *Instruction, env *ruleEnv) bool {
	if in.Kind != KindLabel {
		return true
	}
	for _, kv := range in.Pairs {
		if _, ok := env.cfg.LabelSchema[kv.Key]; !ok {
			return false
		}
	}
	return true
}

func checkLabelNotEmpty(in *Instruction, env *ruleEnv) bool {
	if in.Kind != KindLabel {
		return true
	}
	for _, kv := range in.Pairs {
		if _, ok := env.cfg.LabelSchema[kv.Key]; ok && kv.Value == "" {
			return false
		}
	}
	return true
}

// labelTypeRule checks the values of the schema's labels of one type.
func labelTypeRule(t LabelType) func(*ruleEnv) checker {
	return func(env *ruleEnv) checker {
		return funcChecker{onCheck: func(in *Instruction, r *reporter) {
			if in.Kind != KindLabel {
				return
			}
			for _, kv := range in.Pairs {
				if env.cfg.LabelSchema[kv.Key] == t && !validLabelValue(t, kv.Value) {
					r.addf(in.Line, "The value of label %q is not %s.", kv.Key, labelTypeNoun(t))
				}
			}
		}}
	}
}

func labelTypeNoun(t LabelType) string {
	switch t {
	case LabelURL:
		return "a URL"
	case LabelRFC3339:
		return "an RFC 3339 date-time"
	case LabelSPDX:
		return "an SPDX license expression"
	case LabelHash:
		return "a git commit hash"
	case LabelSemver:
		return "a semantic version"
	case LabelEmail:
		return "an e-mail address"
	}
	return "a " + string(t)
}

// missingLabels is DL3049, per label of the schema: a stage is reported at
// its FROM when it never sets the label, unless it is built FROM a stage
// that already has it, is used as a COPY --from source, or is the base of a
// stage (given without AS) that sets it.
type missingLabels struct {
	schema  []string
	stages  []*labelStage
	byAlias map[string][]*labelStage
	cur     *labelStage
}

type labelStage struct {
	line  int
	image string // image name of the FROM
	alias string
	// per label: 0 bad, 1 good, 2 silent
	state map[string]int
}

const (
	labelBad = iota
	labelGood
	labelSilent
)

func newMissingLabels(env *ruleEnv) checker {
	m := &missingLabels{byAlias: map[string][]*labelStage{}}
	for k := range env.cfg.LabelSchema {
		m.schema = append(m.schema, k)
	}
	slices.Sort(m.schema)
	return m
}

func (m *missingLabels) check(in *Instruction, _ *reporter) {
	switch in.Kind {
	case KindFrom:
		s := &labelStage{line: in.Line, image: in.From.Image(), alias: in.From.Alias, state: map[string]int{}}
		for _, label := range m.schema {
			for _, p := range m.byAlias[s.image] {
				if p.state[label] == labelGood {
					s.state[label] = labelGood
				}
			}
		}
		m.stages = append(m.stages, s)
		if s.alias != "" {
			m.byAlias[s.alias] = append(m.byAlias[s.alias], s)
		}
		m.cur = s
	case KindCopy:
		if in.Copy.From != "" {
			for _, label := range m.schema {
				m.silence(label, in.Copy.From)
			}
		}
	case KindLabel:
		if m.cur == nil {
			return
		}
		for _, kv := range in.Pairs {
			if !slices.Contains(m.schema, kv.Key) {
				continue
			}
			name := m.cur.alias
			if name == "" {
				name = m.cur.image
			}
			m.silence(kv.Key, name)
			m.cur.state[kv.Key] = labelGood
		}
	}
}

// silence marks the bad stages named name as not to be reported.
func (m *missingLabels) silence(label, name string) {
	for _, s := range m.byAlias[name] {
		if s.state[label] == labelBad {
			s.state[label] = labelSilent
		}
	}
}

func (m *missingLabels) done(r *reporter) {
	for _, label := range m.schema {
		for _, s := range m.stages {
			if s.state[label] == labelBad {
				r.addf(s.line, "The label schema requires label %q, and this stage never sets it.", label)
			}
		}
	}
}
