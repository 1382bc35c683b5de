package web

import (
	"testing"

	"seatlink/casework"
)

// The standard lists of the case (barrier kinds, who named one, support
// statuses, contact kinds, who took part) have their words in every
// catalogue: support.js names them by code, so the general check cannot
// see them, and a code added to the Go lists must get its words.
func TestCaseListsHaveWords(t *testing.T) {
	cats, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string][]string{
		"casework.barrier.kind.":   casework.BarrierKinds,
		"casework.named_by.":       casework.Voices,
		"casework.support.status.": casework.SupportStatuses,
		"casework.contact.kind.":   casework.ContactKinds,
		"casework.participant.":    casework.Participants,
	}
	for _, l := range Languages {
		for prefix, codes := range lists {
			for _, c := range codes {
				if !cats[l].Has(prefix + c) {
					t.Errorf("%s lacks %s%s", l, prefix, c)
				}
			}
		}
	}
}
