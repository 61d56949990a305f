package report

import (
	"fmt"
	"github.com/tollgate-dev/tollgate/internal/output"
	htmltemplate "html/template"
	"io"
	"strings"
	"text/template"
	"time"
)

// templateFuncs are the functions a --template may call; the names are
// those Trivy's templates use, so its contrib templates run unchanged.
func templateFuncs(r *Report) template.FuncMap {
	return template.FuncMap{
		"escapeXML":    xmlEscape,
		"escapeString": func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) },
		"toLower":      strings.ToLower,
		"toUpper":      strings.ToUpper,
		"endWithPeriod": func(s string) string {
			if !strings.HasSuffix(s, ".") {
				s += "."
			}
			return s
		},
		"sourceID": func(s string) string { return s },
		"now":      func() time.Time { return r.CreatedAt },
		"join":     strings.Join,
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	template.HTMLEscape(&b, []byte(s))
	return b.String()
}

// CheckTemplate reports whether text parses as a report template, so a
// bad --template is refused before the scan runs.
func CheckTemplate(text string) error {
	_, err := parseTemplate(&Report{}, text)
	return err
}

func parseTemplate(r *Report, text string) (*template.Template, error) {
	funcs := templateFuncs(r)
	funcs["report"] = func() *Report { return r }
	t, err := template.New("report").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("reading the template: %v", strings.TrimPrefix(err.Error(), "template: "))
	}
	return t, nil
}

// WriteTemplate runs the Go text/template o.Template. As in Trivy, the
// template's data (.) is the report's Results; the whole report is
// available as .Report through the "report" function.
func WriteTemplate(w io.Writer, r *Report, o Options) error {
	if o.Template == "" {
		return fmt.Errorf("-f template needs --template TEXT or --template @FILE")
	}
	t, err := parseTemplate(r, o.Template)
	if err != nil {
		return err
	}
	if err := t.Execute(w, r.Results); err != nil {
		return fmt.Errorf("running the template: %v", strings.TrimPrefix(err.Error(), "template: "))
	}
	return nil
}

// htmlPage is the self-contained HTML report: inline style, no scripts,
// nothing fetched.
var htmlPage = htmltemplate.Must(htmltemplate.New("html").Funcs(htmltemplate.FuncMap{"clean": output.Escape}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tollgate report: {{.ArtifactName}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.CRITICAL { background: #b00020; color: #fff; } .HIGH { background: #e65100; color: #fff; }
.MEDIUM { background: #f9a825; } .LOW { background: #90caf9; } .UNKNOWN { background: #e0e0e0; }
.muted { color: #666; }
</style>
</head>
<body>
<h1>{{.ArtifactName | clean}}</h1>
<p class="muted">{{.ArtifactType}}{{with .Metadata.OS}} · {{.Family}} {{.Name}}{{if .EOSL}} (end of life){{end}}{{end}} · scanned {{.CreatedAt.Format "2006-01-02 15:04:05 MST"}}</p>
{{range .Notes}}<p class="muted">Note: {{. | clean}}</p>
{{end}}{{range .Results}}
<h2>{{.Target | clean}} <span class="muted">({{.Type}})</span></h2>
{{if .Vulnerabilities}}<table>
<tr><th>Library</th><th>Vulnerability</th><th>Severity</th><th>Status</th><th>Installed Version</th><th>Fixed Version</th><th>Title</th></tr>
{{range .Vulnerabilities}}<tr><td>{{.PkgName | clean}}{{with .PkgPath}} <span class="muted">({{.}})</span>{{end}}</td><td>{{if .PrimaryURL}}<a href="{{.PrimaryURL}}">{{.VulnerabilityID}}</a>{{else}}{{.VulnerabilityID}}{{end}}{{range .VendorIDs}}<br><span class="muted">{{.}}</span>{{end}}</td><td class="{{.Severity}}">{{.Severity}}</td><td>{{.Status}}</td><td>{{.InstalledVersion | clean}}</td><td>{{.FixedVersion | clean}}</td><td>{{.Title | clean}}{{with .Explanation}}<br><span class="muted">{{.Record}}: {{.Range}}, compared {{.Compared}} ({{.Ordering}}); severity: {{.Severity}}</span>{{end}}</td></tr>
{{end}}</table>{{else}}<p>No vulnerabilities found.</p>{{end}}
{{range .ModifiedFindings}}<p class="muted">Suppressed ({{.Status}}, {{.Source}}): {{.What | clean}}{{with .Statement}} — {{.}}{{end}}</p>
{{end}}{{end}}
{{if .NotMatched}}<h2>Not matched</h2>
<table><tr><th>Package</th><th>Version</th><th>Type</th><th>Reason</th><th>Detail</th></tr>
{{range .NotMatched}}<tr><td>{{.PkgName | clean}}</td><td>{{.Version}}</td><td>{{.Type}}</td><td>{{.Reason}}</td><td>{{.Detail | clean}}</td></tr>
{{end}}</table>{{end}}
</body>
</html>
`))

// WriteHTML writes a self-contained HTML page of the report (no scripts,
// no external resources; everything from the artifact is escaped).
func WriteHTML(w io.Writer, r *Report, _ Options) error {
	return htmlPage.Execute(w, r)
}
