package main

import (
	"sort"
	"strings"
	"unicode"
)

// allowed holds the licences a dependency of the Apache-2.0 seatlink binary
// may carry, each with why it is fine.
var allowed = map[string]string{
	"Apache-2.0":    "same licence as Seatlink",
	"MIT":           "permissive",
	"BSD-2-Clause":  "permissive",
	"BSD-3-Clause":  "permissive",
	"ISC":           "permissive",
	"MPL-2.0":       "file-level copyleft: fine while its files are used unmodified; NOTICE says where their source is",
	"Zlib":          "permissive",
	"Unlicense":     "public-domain dedication",
	"CC0-1.0":       "public-domain dedication",
	"Public-Domain": "dedicated to the public domain (SQLite's wording)",
}

// normalise lowercases s and turns every run of characters other than
// letters and digits into one space, so that line breaks, comment markers,
// list bullets and punctuation do not matter to the phrases below.
func normalise(s string) string {
	var b strings.Builder
	space := true
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

// Classify names the licences whose distinctive wording is in text: SPDX
// identifiers, sorted, or nil when it finds none. It reads the wording, not
// a file's name. Several results mean the text holds several licences (a
// file with an MIT part and an Apache part, say), and every one must be
// allowed.
func Classify(text string) []string {
	t := " " + normalise(text) + " "
	has := func(phrase string) bool { return strings.Contains(t, " "+normalise(phrase)+" ") }
	count := func(phrase string) int { return strings.Count(t, " "+normalise(phrase)+" ") }
	found := map[string]bool{}
	add := func(id string) { found[id] = true }

	// Refused. The MPL-2.0 names the GNU licences as "Secondary Licenses"
	// ("the GNU General Public License, Version 2.0, the GNU Lesser ..."),
	// so the GNU licences are known by their title lines with dates and by
	// the grant "under the terms of the GNU ...", which the MPL lacks.
	switch {
	case has("GNU AFFERO GENERAL PUBLIC LICENSE Version 3, 19 November 2007"):
		add("AGPL-3.0")
	case has("under the terms of the GNU Affero General Public License"):
		add("AGPL")
	}
	switch {
	case has("GNU LESSER GENERAL PUBLIC LICENSE Version 3, 29 June 2007"):
		add("LGPL-3.0")
	case has("GNU LESSER GENERAL PUBLIC LICENSE Version 2.1, February 1999"):
		add("LGPL-2.1")
	case has("GNU LIBRARY GENERAL PUBLIC LICENSE Version 2, June 1991"):
		add("LGPL-2.0")
	case has("under the terms of the GNU Lesser General Public License"),
		has("under the terms of the GNU Library General Public License"):
		add("LGPL")
	}
	switch {
	case has("GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007"):
		add("GPL-3.0")
	case has("GNU GENERAL PUBLIC LICENSE Version 2, June 1991"):
		add("GPL-2.0")
	case has("under the terms of the GNU General Public License"):
		add("GPL")
	}
	if has("Server Side Public License") {
		add("SSPL")
	}
	if has("European Union Public Licence") || has("European Union Public License") {
		add("EUPL")
	}
	if has("Business Source License") {
		add("BUSL")
	}
	if has("Commons Clause") {
		add("Commons-Clause")
	}
	if has("The Software shall be used for Good, not Evil") {
		add("JSON")
	}
	if has("Mozilla Public License Version 1.1") || has("Mozilla Public License, v. 1.1") {
		add("MPL-1.1")
	}
	if has("Apache Software License, Version 1.1") {
		add("Apache-1.1")
	}

	// Allowed.
	if has("Apache License, Version 2.0") &&
		(has("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION") ||
			has("you may not use this file except in compliance with the License") ||
			has("Licensed under the Apache License, Version 2.0")) {
		add("Apache-2.0")
	}
	if has("Permission is hereby granted, free of charge, to any person obtaining a copy") {
		if has("The above copyright notice and this permission notice shall be included") {
			add("MIT")
		} else {
			add("MIT-0") // no notice to keep: not on the list, for a person to look at
		}
	}
	if has("Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby granted") ||
		has("Permission to use, copy, modify, and distribute this software for any purpose with or without fee is hereby granted") {
		if has("provided that the above copyright notice and this permission notice appear in all copies") {
			add("ISC")
		} else {
			add("0BSD")
		}
	}
	// The BSD licences share their first two clauses; the third ("Neither
	// the name of ... may be used to endorse or promote products derived
	// from this software") makes BSD-3-Clause. Counting both tells a file
	// holding a BSD-2 text and a BSD-3 text from one holding only BSD-3.
	if n := count("Redistribution and use in source and binary forms, with or without modification, are permitted provided that"); n > 0 {
		endorse := count("endorse or promote products derived from this software")
		if has("All advertising materials mentioning features or use of this software must display") {
			add("BSD-4-Clause")
		} else if endorse > 0 {
			add("BSD-3-Clause")
		}
		if n > endorse {
			add("BSD-2-Clause")
		}
	}
	if has("Mozilla Public License Version 2.0") || has("Mozilla Public License, v. 2.0") {
		add("MPL-2.0")
	}
	if has("The origin of this software must not be misrepresented") &&
		has("Altered source versions must be plainly marked as such, and must not be misrepresented as being the original software") {
		add("Zlib")
	}
	if has("This is free and unencumbered software released into the public domain") {
		add("Unlicense")
	}
	if has("CC0 1.0 Universal") {
		add("CC0-1.0")
	} else if has("Creative Commons") {
		switch {
		case has("NonCommercial") || has("Non-Commercial"):
			add("CC-BY-NC")
		case has("ShareAlike"):
			add("CC-BY-SA")
		default:
			add("CC-BY")
		}
	}
	if len(found) == 0 && (has("dedicated to the public domain") ||
		has("The author disclaims copyright to this source code")) {
		add("Public-Domain")
	}

	if len(found) == 0 {
		return nil
	}
	ids := make([]string, 0, len(found))
	for id := range found {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
