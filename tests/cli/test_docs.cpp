// docs/cine.1 keeps up with the program: every option and command `cine --help` lists is in the
// manual page.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "run_process.h"

TEST_CASE("docs/cine.1 names every option and command of cine --help") {
  cine_test::ProcessResult r = cine_test::run_process({CINE_BINARY, "--help"}, 10);
  REQUIRE(r.code == 0);
  std::ifstream in(std::string(CINE_SOURCE_DIR) + "/docs/cine.1");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  // roff writes a hyphen as \- ; read it as the plain one the help shows.
  std::string const page = std::regex_replace(ss.str(), std::regex(R"(\\-)"), "-");

  std::set<std::string> names;
  static const std::regex option(R"((^|[\s\[/,])(--?[a-z][a-z0-9-]*))");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), option), end; it != end; ++it)
    names.insert((*it)[2]);
  static const std::regex command(R"(cine ([a-z]+) )");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), command), end; it != end; ++it)
    names.insert("cine " + (*it)[1].str());
  CHECK(names.size() > 40);
  CHECK(names.count("--log-file"));
  for (const std::string& n : names) {
    CAPTURE(n);
    CHECK(page.find(n) != std::string::npos);
  }
}

TEST_CASE("the README links the manual page") {
  std::ifstream in(std::string(CINE_SOURCE_DIR) + "/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str().find("docs/cine.1") != std::string::npos);
}
