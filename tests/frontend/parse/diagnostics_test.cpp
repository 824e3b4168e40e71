// Diagnostic rendering: header, source excerpt and caret, windowing of long lines, tabs.
#include "frontend/ast/diagnostics.h"

#include <doctest/doctest.h>

using podm::DiagnosticEngine;
using podm::SourceFile;

TEST_CASE("a diagnostic shows the line and a caret under the column") {
  SourceFile file("m.podm", "model m\nconst a = b\n");
  DiagnosticEngine diags(file);
  diags.error({2, 11, 1}, "unknown name 'b'");
  CHECK(diags.render(diags.all()[0]) ==
        "m.podm:2:11: error: unknown name 'b'\n  const a = b\n            ^\n");
}

TEST_CASE("tabs are kept in the caret line so the caret lines up") {
  SourceFile file("t.podm", "\tconst a = b\n");
  DiagnosticEngine diags(file);
  diags.error({1, 12, 1}, "x");
  CHECK(diags.render(diags.all()[0]) ==
        "t.podm:1:12: error: x\n  \tconst a = b\n  \t          ^\n");
}

TEST_CASE("long lines are windowed around the column") {
  std::string line(5000, 'a');
  SourceFile file("l.podm", line + "\n");
  DiagnosticEngine diags(file);
  diags.error({1, 2500, 3}, "here");
  std::string out = diags.render(diags.all()[0]);
  CHECK(out.size() < 300);
  CHECK(out.find("...") != std::string::npos);
  CHECK(out.find("^~~") != std::string::npos);
}

TEST_CASE("whole-file diagnostics have no excerpt") {
  SourceFile file("w.podm", "");
  DiagnosticEngine diags(file);
  diags.error({}, "cannot read");
  CHECK(diags.render(diags.all()[0]) == "w.podm: error: cannot read\n");
}

TEST_CASE("the engine stops counting at its limit and says so once") {
  SourceFile file("e.podm", "x\n");
  DiagnosticEngine diags(file, 3);
  for (int i = 0; i < 10; ++i)
    diags.error({1, 1, 1}, "e");
  CHECK(diags.errorCount() == 3);
  CHECK(diags.saturated());
  CHECK(diags.all().size() == 4);
  CHECK(diags.all().back().message == "too many errors; stopping here");
}

TEST_CASE("columns count code points, not bytes") {
  SourceFile file("u.podm", "# caf\xc3\xa9 x\n");
  CHECK(file.locationOf(8).col == 8); // the 'x' after a two-byte 'e'
}
