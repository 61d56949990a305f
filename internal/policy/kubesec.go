package policy

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/kube"
)

// KubesecScorer scores objects with tollgate's kubesec-compatible scanner,
// so that admission and `tollgate kube scan` compute the same score.
type KubesecScorer struct {
	Scanner *kube.Scanner
}

var _ Scorer = KubesecScorer{}

// Score scores one JSON object.
func (k KubesecScorer) Score(object []byte) (Score, error) {
	reports := k.Scanner.Scan(object, kube.APIFileName)
	if len(reports) != 1 {
		return Score{}, fmt.Errorf("scanning gave %d reports, want 1", len(reports))
	}
	return ReportScore(&reports[0]), nil
}

// ReportScore is the Score of a kube scan report.
func ReportScore(r *kube.Report) Score {
	if !r.Valid {
		msg := r.Message
		for _, p := range r.Problems {
			msg = p.String()
			break
		}
		return Score{Message: msg}
	}
	s := Score{Valid: true, Score: r.Score}
	for _, c := range r.Scoring.Critical {
		s.Critical = append(s.Critical, ScoreItem{ID: c.ID, Selector: c.Selector, Reason: c.Reason, Points: c.Points, Path: c.Path})
	}
	return s
}

// ReportScorer scores with the report kube scan has already made of
// Object, so that kube scan --policy scores every document once; any other
// object (a Pod the policy's mutations changed) is scored by Fallback.
type ReportScorer struct {
	Object []byte
	Report *kube.Report
	// Prefix is the object's path in its document (kube.Manifest.Path),
	// taken off the report's field paths.
	Prefix   string
	Fallback Scorer
}

var _ Scorer = ReportScorer{}

// Score scores one JSON object.
func (s ReportScorer) Score(object []byte) (Score, error) {
	if bytes.Equal(object, s.Object) {
		sc := ReportScore(s.Report)
		if s.Prefix != "" {
			for i := range sc.Critical {
				sc.Critical[i].Path = strings.TrimPrefix(sc.Critical[i].Path, s.Prefix+".")
			}
		}
		return sc, nil
	}
	return s.Fallback.Score(object)
}
