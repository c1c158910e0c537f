#include "fieldgate/util/ini_reader.hpp"

#include <string>
#include <vector>

#include "fieldgate/util/ini_fields.hpp"

// CppUTest's leak detector redefines new: it comes after every other header.
#include <CppUTest/TestHarness.h>

using namespace fieldgate::util;

TEST_GROUP(IniReader){};

TEST(IniReader, lines_are_sections_settings_comments_or_errors) {
    const auto ini = read_ini("f.ini",
                              "\xEF\xBB\xBF; comment\n"
                              "# comment\n"
                              "  [a]   ; after a header\n"
                              "k = v ; after a value\n"
                              "url=x;y\n"
                              "\tquoted = \"as written\"\n"
                              "\n"
                              "[b.c]\n"
                              "empty =\n",
                              "[a] [b.NAME]");
    CHECK(ini.errors.empty());
    LONGS_EQUAL(2, ini.sections.size());
    STRCMP_EQUAL("a", ini.sections[0].name.c_str());
    LONGS_EQUAL(3, ini.sections[0].line);
    const auto& e = ini.sections[0].entries;
    LONGS_EQUAL(3, e.size());
    STRCMP_EQUAL("v", e[0].value.c_str());
    LONGS_EQUAL(4, e[0].line);
    STRCMP_EQUAL("x;y", e[1].value.c_str());  // a ';' without a blank before it is kept
    STRCMP_EQUAL("\"as written\"", e[2].value.c_str());
    STRCMP_EQUAL("b.c", ini.sections[1].name.c_str());
    STRCMP_EQUAL("", ini.sections[1].entries[0].value.c_str());
}

TEST(IniReader, every_bad_line_is_reported_with_file_and_line) {
    const auto ini = read_ini("f.ini", "k = 1\n[]\n[x\nno equals\n= v\n[ok]\nkey: value\n", "[a] [b.NAME]");
    const std::vector<std::string> expected = {
        "f.ini:1: k: setting before any section; accepted: a [section] line first",
        "f.ini:2: empty section name []; accepted: [a] [b.NAME]",
        "f.ini:3: bad section header \"[x\"; accepted: [name] alone on its line",
        "f.ini:4: not a setting \"no equals\"; accepted: key = value, [section], or a comment starting with ; or #",
        "f.ini:5: no key before '='; accepted: key = value",
        "f.ini:7: not a setting \"key: value\"; accepted: key = value, [section], or a comment starting with ; or #",
    };
    LONGS_EQUAL(expected.size(), ini.errors.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
        STRCMP_EQUAL(expected[i].c_str(), ini.errors[i].c_str());
}

TEST(IniReader, fields_report_twice_unknown_and_sections_defined_twice) {
    const auto ini = read_ini("f.ini", "[s]\nk = 1\nk = 2\nz = 3\n[s]\n[t]\n", "[s]");
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
    Report report(errors, warnings);
    SectionNames seen;
    CHECK(seen.add(report, ini.sections[0], "each section once"));
    Fields f(report, ini.sections[0]);
    LONGS_EQUAL(1, *f.integer("k", 0, 9));  // the first of a key given twice
    f.finish();
    CHECK_FALSE(seen.add(report, ini.sections[1], "each section once"));
    report.unknown_section(ini.sections[2], "[s]");
    CHECK(seen.find("s") == &ini.sections[0]);
    CHECK(seen.find("t") == nullptr);
    const std::vector<std::string> expected = {
        "f.ini:3: [s] k: given twice, first at line 2; accepted: each key once per section",
        "f.ini:4: [s] z: unknown key; accepted: k",
        "f.ini:5: [s]: section defined twice, first at f.ini:1; accepted: each section once",
        "f.ini:6: [t]: unknown section; accepted: [s]",
    };
    LONGS_EQUAL(expected.size(), errors.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
        STRCMP_EQUAL(expected[i].c_str(), errors[i].c_str());
}
