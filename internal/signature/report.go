package signature

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Output formats of a verification report.
const (
	FormatTable = "table"
	FormatJSON  = "json"
)

// Write writes res in format (FormatTable or FormatJSON).
func Write(w io.Writer, res *Result, format string) error {
	switch format {
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case FormatTable, "":
		return writeTable(w, res)
	}
	return fmt.Errorf("unknown format %q (want table or json)", format)
}

func writeTable(w io.Writer, res *Result) error {
	verdict := "verified"
	if !res.Verified {
		verdict = "NOT VERIFIED: " + res.Reason
	} else if len(res.Keys) > 0 {
		verdict += " (by " + strings.Join(res.Keys, ", ") + ")"
	}
	fmt.Fprintf(w, "image:  %s\ndigest: %s\nwant:   %s\nresult: %s\n", res.Image, res.Digest, res.Want, verdict)
	if len(res.Signatures) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tFORMAT\tSOURCE\tKEY\tCLAIMS\tRESULT")
	for _, s := range res.Signatures {
		key := s.Key
		if key == "" {
			key = "-"
		}
		result := "verified"
		if !s.Verified {
			result = "refused: " + s.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Kind, s.Format, s.Source, key, claims(s), result)
	}
	return tw.Flush()
}

// claims renders what a signature says, briefly.
func claims(s Signature) string {
	if s.Claims == nil {
		return "-"
	}
	var parts []string
	if s.Kind == "attestation" && s.PredicateType != "" {
		parts = append(parts, "predicate="+s.PredicateType)
	}
	if s.Claims.DockerReference != "" {
		parts = append(parts, "identity="+s.Claims.DockerReference)
	}
	keys := make([]string, 0, len(s.Claims.Annotations))
	for k := range s.Claims.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+s.Claims.Annotations[k])
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// WritePolicy writes a policy verification in format.
func WritePolicy(w io.Writer, pr *PolicyResult, format string) error {
	if format == FormatJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(pr)
	}
	if len(pr.Rules) == 0 {
		_, err := fmt.Fprintf(w, "no signature rule of the policy applies to %s\n", pr.Image)
		return err
	}
	for i, r := range pr.Results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := writeTable(w, r); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nrules: %s\n", strings.Join(pr.Rules, ", "))
	if len(pr.Findings) == 0 {
		_, err := fmt.Fprintln(w, "decision: allowed")
		return err
	}
	for _, f := range pr.Findings {
		fmt.Fprintf(w, "%s: %s\n", f.Mode, f.Message)
	}
	return nil
}
