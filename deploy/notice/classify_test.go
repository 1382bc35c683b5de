package main

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// Snippets of real licence files, as they sit in the module cache (path
// given) or in Debian's /usr/share/common-licenses, line breaks and
// indentation kept.
const (
	// github.com/minio/minio-go/v7@v7.4.1/LICENSE
	apacheFull = `
                                 Apache License
                           Version 2.0, January 2004
                        http://www.apache.org/licenses/

   TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION

   1. Definitions.
`
	// go.yaml.in/yaml/v3@v3.0.5/NOTICE
	apacheHeader = `Copyright 2011-2016 Canonical Ltd.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0
`
	// github.com/philhofer/fwd@v1.2.0/LICENSE.md
	mit = `Copyright (c) 2014-2015, Philip Hofer

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.
`
	// github.com/gorilla/websocket@v1.5.3/LICENSE
	bsd2 = `Copyright (c) 2013 The Gorilla WebSocket Authors. All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

  Redistributions of source code must retain the above copyright notice, this
  list of conditions and the following disclaimer.

  Redistributions in binary form must reproduce the above copyright notice,
  this list of conditions and the following disclaimer in the documentation
  and/or other materials provided with the distribution.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
`
	// modernc.org/memory@v1.12.1/LICENSE-MMAP-GO
	bsd3 = `Copyright (c) 2011, Evan Shaw <edsrzf@gmail.com>
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:
    * Redistributions of source code must retain the above copyright
      notice, this list of conditions and the following disclaimer.
    * Redistributions in binary form must reproduce the above copyright
      notice, this list of conditions and the following disclaimer in the
      documentation and/or other materials provided with the distribution.
    * Neither the name of the copyright holder nor the
      names of its contributors may be used to endorse or promote products
      derived from this software without specific prior written permission.
`
	// github.com/davecgh/go-spew@v1.1.2-0.20180830191138-d8f796af33cc/LICENSE
	isc = `ISC License

Copyright (c) 2012-2016 Dave Collins <dave@davec.name>

Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.
`
	// /usr/share/common-licenses/MPL-2.0: the title and the definition that
	// names the GNU licences, which must not read as GPL.
	mplFull = `Mozilla Public License Version 2.0
==================================

1. Definitions
--------------
1.12. "Secondary License"
    means either the GNU General Public License, Version 2.0, the GNU
    Lesser General Public License, Version 2.1, the GNU Affero General
    Public License, Version 3.0, or any later versions of those
    licenses.
`
	// /usr/share/common-licenses/MPL-2.0, Exhibit A, as a file header
	mplHeader = `// This Source Code Form is subject to the terms of the Mozilla Public
// License, v. 2.0. If a copy of the MPL was not distributed with this
// file, You can obtain one at http://mozilla.org/MPL/2.0/.
`
	// /usr/share/doc/zstd/copyright (divsufsort's zlib licence)
	zlib = ` This software is provided 'as-is', without any express or implied
 warranty. In no event will the authors be held liable for any damages
 arising from the use of this software.
 .
 Permission is granted to anyone to use this software for any purpose,
 including commercial applications, and to alter it and redistribute it
 freely, subject to the following restrictions:
 .
 1. The origin of this software must not be misrepresented; you must not
    claim that you wrote the original software. If you use this software
    in a product, an acknowledgement in the product documentation would be
    appreciated but is not required.
 2. Altered source versions must be plainly marked as such, and must not be
    misrepresented as being the original software.
 3. This notice may not be removed or altered from any source distribution.
`
	// github.com/vbauerster/mpb/v8@v8.9.3/UNLICENSE
	unlicense = `This is free and unencumbered software released into the public domain.

Anyone is free to copy, modify, publish, use, compile, sell, or
distribute this software, either in source code form or as a compiled
binary, for any purpose, commercial or non-commercial, and by any
means.
`
	// github.com/dchest/siphash@v1.2.3/LICENSE
	cc0 = `Creative Commons Legal Code

CC0 1.0 Universal

    CREATIVE COMMONS CORPORATION IS NOT A LAW FIRM AND DOES NOT PROVIDE
    LEGAL SERVICES.
`
	// modernc.org/sqlite@v1.62.0/LICENSE-SQLITE
	sqlitePD = `SQLite Is Public Domain

All of the code and documentation in SQLite has been dedicated to the public
domain by the authors.
`
	// /usr/share/common-licenses/GPL-2, title and the notice to apply it
	gpl2 = `                    GNU GENERAL PUBLIC LICENSE
                       Version 2, June 1991
`
	gplNotice = `    This program is free software; you can redistribute it and/or modify
    it under the terms of the GNU General Public License as published by
    the Free Software Foundation; either version 2 of the License, or
    (at your option) any later version.
`
	// /usr/share/common-licenses/GPL-3, LGPL-2.1
	gpl3 = `                    GNU GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007
`
	lgpl21 = `                  GNU LESSER GENERAL PUBLIC LICENSE
                       Version 2.1, February 1999
`
	// github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c/LICENSE
	agpl3 = `                    GNU AFFERO GENERAL PUBLIC LICENSE
                       Version 3, 19 November 2007
`
	// modernc.org/memory@v1.12.1/LICENSE-LOGO: no licence at all
	unknownURL  = "https://commons.wikimedia.org/wiki/File:Memory_infra_logo.png\n"
	unknownText = `Copyright 2024 Example Corp. All rights reserved.
This software is proprietary; contact sales for licensing.
`
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
		ok   bool // every licence on the allow-list
	}{
		{"apache full text", apacheFull, []string{"Apache-2.0"}, true},
		{"apache header", apacheHeader, []string{"Apache-2.0"}, true},
		{"mit", mit, []string{"MIT"}, true},
		{"bsd-2: no endorsement clause", bsd2, []string{"BSD-2-Clause"}, true},
		{"bsd-3: neither the name", bsd3, []string{"BSD-3-Clause"}, true},
		{"bsd-2 and bsd-3 in one file", bsd3 + "\n---\n" + bsd2, []string{"BSD-2-Clause", "BSD-3-Clause"}, true},
		{"isc", isc, []string{"ISC"}, true},
		{"mpl-2.0 naming the GNU licences", mplFull, []string{"MPL-2.0"}, true},
		{"mpl-2.0 file header", mplHeader, []string{"MPL-2.0"}, true},
		{"zlib", zlib, []string{"Zlib"}, true},
		{"unlicense", unlicense, []string{"Unlicense"}, true},
		{"cc0", cc0, []string{"CC0-1.0"}, true},
		{"sqlite public domain", sqlitePD, []string{"Public-Domain"}, true},
		// go.yaml.in/yaml/v3's LICENSE holds both
		{"mit and apache in one file", "This project is covered by two different licenses: MIT and Apache.\n\n#### MIT License ####\n\n" + mit + "\n#### Apache License ###\n\n" + apacheHeader, []string{"Apache-2.0", "MIT"}, true},

		{"gpl-2.0", gpl2, []string{"GPL-2.0"}, false},
		{"gpl-3.0", gpl3, []string{"GPL-3.0"}, false},
		{"gpl notice only", gplNotice, []string{"GPL"}, false},
		{"lgpl-2.1", lgpl21, []string{"LGPL-2.1"}, false},
		{"agpl-3.0", agpl3, []string{"AGPL-3.0"}, false},
		{"mit dual with gpl", mit + "\nAlternatively:\n" + gplNotice, []string{"GPL", "MIT"}, false},
		{"mit-0 keeps no notice", "Permission is hereby granted, free of charge, to any person obtaining a copy of this software, to deal in the Software without restriction.", []string{"MIT-0"}, false},
		{"json licence", mit + "\nThe Software shall be used for Good, not Evil.\n", []string{"JSON", "MIT"}, false},
		{"cc-by-nc", "Creative Commons Attribution-NonCommercial 4.0 International Public License", []string{"CC-BY-NC"}, false},
		{"sspl", "Server Side Public License\nVERSION 1, OCTOBER 16, 2018", []string{"SSPL"}, false},
		{"eupl", "EUROPEAN UNION PUBLIC LICENCE v. 1.2", []string{"EUPL"}, false},
		{"unknown: a link", unknownURL, nil, false},
		{"unknown: proprietary", unknownText, nil, false},
		{"empty", "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.text)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Classify = %q, want %q", got, tt.want)
			}
			problems := judge("example.com/m", "v1.0.0", "LICENSE", got)
			if ok := len(problems) == 0; ok != tt.ok {
				t.Fatalf("judge(%q) = %q, want allowed %v", got, problems, tt.ok)
			}
			for _, p := range problems {
				if !strings.Contains(p, "example.com/m v1.0.0") || !strings.Contains(p, "LICENSE") {
					t.Errorf("problem does not name the module and the file: %s", p)
				}
			}
		})
	}
}

// TestClassifyWholeFiles runs the classifier on whole licence texts: the
// repository's LICENSE, Go's, and Debian's copies where present.
func TestClassifyWholeFiles(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"../../LICENSE", []string{"Apache-2.0"}},
		{filepath.Join(runtime.GOROOT(), "LICENSE"), []string{"BSD-3-Clause"}},
		{"/usr/share/common-licenses/Apache-2.0", []string{"Apache-2.0"}},
		{"/usr/share/common-licenses/MPL-2.0", []string{"MPL-2.0"}},
		{"/usr/share/common-licenses/CC0-1.0", []string{"CC0-1.0"}},
		{"/usr/share/common-licenses/BSD", []string{"BSD-3-Clause"}},
		{"/usr/share/common-licenses/GPL-2", []string{"GPL-2.0"}},
		{"/usr/share/common-licenses/GPL-3", []string{"GPL-3.0"}},
		{"/usr/share/common-licenses/LGPL-2.1", []string{"LGPL-2.1"}},
		{"/usr/share/common-licenses/LGPL-3", []string{"LGPL-3.0"}},
		{"/usr/share/common-licenses/MPL-1.1", []string{"MPL-1.1"}},
	}
	for _, tt := range tests {
		text, err := os.ReadFile(tt.path)
		if os.IsNotExist(err) && strings.HasPrefix(tt.path, "/usr/share/") {
			t.Logf("%s: not here, skipped", tt.path)
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		if got := Classify(string(text)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Classify = %q, want %q", tt.path, got, tt.want)
		}
	}
}
