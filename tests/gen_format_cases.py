#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes tests/format_cases.inc, the printf cases shared by the format tests.

Every case is one line, FMT_CASE("format", C argument expressions...), whose
arguments have the C types a program would log. test_format.c turns each one
into decoded arguments and compares ttlog_format() with snprintf();
test_roundtrip_format.c logs each one with TTLOG_INFO() and compares what the
reader prints with snprintf().

The generator keeps to what gcc and clang accept without a warning under
-Wall -Wextra -Wformat=2:
  - flags only with the conversions the C standard gives them to;
  - no ' ' together with '+', no '0' together with '-', and no '0' with a
    precision (also '.*') on integer conversions ("flag ignored" warnings);
  - no precision on %c and %p; hh and h take arguments of their own type
    (clang rejects an int), and no 'Z' or 'I' (clang does not know them);
  - long double values are exact binary64 values, because ttlog records
    long double as binary64.
Cases that need anything else are expected-text cases in test_format.c.

Usage: python3 tests/gen_format_cases.py [OUTPUT]   (default: next to this file)
"""

import os
import sys

# A string longer than the precisions and widths used with it (300 bytes).
LONG_TEXT = "".join(
    "%03d:the quick brown fox jumps over a lazy dog; " % i for i in range(7))[:300]

NULL_STR = "FMT_NULL_STR"


def c_string(text):
    """A C string literal for text (octal escapes for anything unusual)."""
    out = ['"']
    for ch in text.encode("utf-8"):
        c = chr(ch)
        if c in '"\\':
            out.append("\\" + c)
        elif 0x20 <= ch < 0x7f and c != "?":
            out.append(c)
        else:
            out.append("\\%03o" % ch)
    out.append('"')
    return "".join(out)


class Table:
    def __init__(self):
        self.lines = []
        self.count = 0

    def section(self, title):
        self.lines.append("")
        self.lines.append("/* %s */" % title)

    def case(self, fmt, *args):
        assert len(args) <= 16, fmt
        parts = [c_string(fmt)] + list(args)
        self.lines.append("FMT_CASE(%s)" % ", ".join(parts))
        self.count += 1

    def repeat(self, spec, values, sep=" "):
        """One case printing every value with the same spec, bracketed."""
        fmt = sep.join("[" + spec + "]" for _ in values)
        self.case(fmt, *values)


# ---------------------------------------------------------------- integers

SIGNED_VALUES = ["0", "1", "-1", "42", "-123456", "INT_MAX", "INT_MIN"]
UNSIGNED_VALUES = ["0u", "1u", "255u", "0x80000000u", "3000000000u", "UINT_MAX"]

# (width, precision) pairs; "" means absent.
INT_SHAPES = [("", ""), ("1", ""), ("8", ""), ("14", ""), ("", ".0"), ("", "."),
              ("", ".5"), ("", ".12"), ("10", ".4"), ("3", ".1")]

FLAGS_FOR = {
    "d": ["", "-", "+", " ", "0", "'", "-+", "- ", "+0", " 0", "+'", "-'"],
    "i": ["", "-", "+", " ", "0"],
    "u": ["", "-", "0", "'", "-'"],
    "o": ["", "-", "#", "0", "#0", "-#"],
    "x": ["", "-", "#", "0", "#0", "-#"],
    "X": ["", "-", "#", "0", "#0", "-#"],
}


def flag_shape_ok(flags, width, prec, integer):
    if "+" in flags and " " in flags:
        return False
    if "-" in flags and "0" in flags:
        return False
    if integer and "0" in flags and prec:
        return False
    return True


def spec(flags, width, prec, length, conv):
    return "%" + flags + width + prec + length + conv


def integer_cases(t):
    t.section("int and unsigned int: every flag, widths and precisions")
    for conv in "diuoxX":
        values = SIGNED_VALUES if conv in "di" else UNSIGNED_VALUES
        shapes = INT_SHAPES if conv != "i" else INT_SHAPES[:5]
        for flags in FLAGS_FOR[conv]:
            for width, prec in shapes:
                if not flag_shape_ok(flags, width, prec, True):
                    continue
                t.repeat(spec(flags, width, prec, "", conv), values)

    t.section("zero with a zero precision, and the '#' rules for zero")
    t.case("[%.0d] [%.d] [%5.0d] [%-5.0i] [%+.0d]", "0", "0", "0", "0", "0")
    t.case("[%.0u] [%.0o] [%#.0o] [%#o] [%.0x] [%#.0x] [%#x] [%#X]",
           "0u", "0u", "0u", "0u", "0u", "0u", "0u", "0u")
    t.case("[%#.3o] [%#.3x] [%#10.3X] [%#-10o] [%#010x]",
           "8u", "255u", "255u", "8u", "255u")

    t.section("integer types without a length modifier (promoted to int)")
    t.case("%d %d %d %d %d %d %d",
           "(char)'a'", "(char)0", "(signed char)-128", "(unsigned char)255",
           "(short)-32768", "(unsigned short)65535", "(_Bool)1")
    t.case("%u %u %x %X %o", "(unsigned char)200", "(unsigned short)65535",
           "(unsigned char)171", "(unsigned short)48879", "(unsigned char)8")
    t.case("%d %i %d", "'A'", "(_Bool)0", "(int)(char)-1")
    t.case("%x %o %u", "-1", "-1", "-1")
    t.case("%d %d", "UINT_MAX", "0x80000000u")


# (length modifier, C type, values): every modifier with arguments of its type.
LENGTH_TYPES = [
    ("hh", "signed char", ["(signed char)0", "(signed char)-1", "(signed char)SCHAR_MIN",
                           "(signed char)SCHAR_MAX", "(signed char)100"]),
    ("hh", "unsigned char", ["(unsigned char)0", "(unsigned char)255", "(unsigned char)128",
                             "(unsigned char)127", "(unsigned char)10"]),
    ("h", "short", ["(short)0", "(short)-1", "(short)SHRT_MIN", "(short)SHRT_MAX", "(short)1000"]),
    ("h", "unsigned short", ["(unsigned short)0", "(unsigned short)USHRT_MAX",
                             "(unsigned short)32768", "(unsigned short)4660"]),
    ("l", "long", ["0L", "-1L", "LONG_MIN", "LONG_MAX", "1234567890123L"]),
    ("l", "unsigned long", ["0UL", "ULONG_MAX", "0x8000000000000000UL", "4294967296UL"]),
    ("ll", "long long", ["0LL", "-1LL", "(long long)INT64_MIN", "(long long)INT64_MAX",
                         "-9876543210LL"]),
    ("ll", "unsigned long long", ["0ULL", "(unsigned long long)UINT64_MAX",
                                  "0x123456789abcdefULL", "10000000000000000000ULL"]),
    ("q", "long long", ["(long long)INT64_MIN", "-2LL", "(long long)INT64_MAX"]),
    ("q", "unsigned long long", ["(unsigned long long)UINT64_MAX", "7ULL"]),
    ("L", "long long", ["(long long)INT64_MIN", "-2LL", "(long long)INT64_MAX"]),
    ("L", "unsigned long long", ["(unsigned long long)UINT64_MAX", "7ULL"]),
    ("j", "intmax_t", ["(intmax_t)0", "(intmax_t)-1", "INTMAX_MIN", "INTMAX_MAX"]),
    ("j", "uintmax_t", ["(uintmax_t)0", "UINTMAX_MAX", "(uintmax_t)1 << 63"]),
    ("z", "ssize_t", ["(ssize_t)0", "(ssize_t)-1", "(ssize_t)SSIZE_MAX", "(ssize_t)-SSIZE_MAX - 1"]),
    ("z", "size_t", ["(size_t)0", "SIZE_MAX", "sizeof(int)", "(size_t)1 << 40"]),
    ("t", "ptrdiff_t", ["(ptrdiff_t)0", "(ptrdiff_t)-1", "PTRDIFF_MIN", "PTRDIFF_MAX"]),
    ("t", "size_t", ["(size_t)0", "SIZE_MAX", "(size_t)PTRDIFF_MAX + 1"]),
]

LENGTH_SHAPES = [("", "", ""), ("-", "24", ""), ("0", "24", ""), ("", "", ".20"), ("", "6", ".3")]


def length_cases(t):
    t.section("every length modifier, with arguments of its own type")
    for length, ctype, values in LENGTH_TYPES:
        signed = not ctype.startswith("unsigned") and ctype not in ("size_t", "uintmax_t")
        convs = "di" if signed else "uoxX"
        for conv in convs:
            for flags, width, prec in LENGTH_SHAPES:
                if conv == "i" and (flags, width, prec) != ("", "", ""):
                    continue
                t.repeat(spec(flags, width, prec, length, conv), values)
            if signed:
                t.repeat(spec("+", "", "", length, conv), values)
            elif conv == "u":
                t.repeat(spec("'", "", "", length, conv), values)
            else:
                t.repeat(spec("#", "", "", length, conv), values)
        # The signed types through unsigned conversions and back.
        if signed:
            t.repeat(spec("", "", "", length, "x"), values)
            t.repeat(spec("", "", "", length, "u"), values)
        else:
            t.repeat(spec("", "", "", length, "d"), values)


# ---------------------------------------------------------------- floating

FLOAT_VALUES = ["0.0", "-0.0", "1.0", "-1.5", "3.25", "0.1", "2.5", "1e-5",
                "123456.789", "-9.999e-5", "1e21", "0.5"]
FLOAT_EDGES = ["DBL_MAX", "-DBL_MAX", "DBL_MIN", "DBL_TRUE_MIN", "1e-310", "INFINITY",
               "-INFINITY", "NAN", "-NAN", "(float)0.1", "(float)FLT_MAX", "-1e-320"]
FLOAT_FLAGS = ["", "-", "+", " ", "#", "0", "+0", " 0", "-#", "-+", "#0"]
FLOAT_SHAPES = [("", ""), ("12", ""), ("", ".0"), ("", ".3"), ("", "."), ("24", ".10"),
                ("", ".17"), ("1", ".1")]


def float_cases(t):
    t.section("double: every conversion, flag, width and precision")
    for conv in "fFeEgGaA":
        for flags in FLOAT_FLAGS:
            for width, prec in FLOAT_SHAPES:
                if not flag_shape_ok(flags, width, prec, False):
                    continue
                # Keep the table readable: the full value list for the plain
                # shapes, a shorter one for the rest.
                values = FLOAT_VALUES if (width, prec) in (("", ""), ("", ".3")) else FLOAT_VALUES[::2]
                t.repeat(spec(flags, width, prec, "", conv), values)
        if conv in "fFgG":
            t.repeat(spec("'", "", "", "", conv), ["1234567.891", "-1e9", "12.5"])
            t.repeat(spec("'", "16", ".2", "", conv), ["1234567.891", "-1e9"])

    t.section("double: edge values (limits, denormals, infinities, NaN, -0.0)")
    for conv in "fFeEgGaA":
        for shape in ["%", "%+", "%-30", "%#.40", "%025.3", "% .0"]:
            t.repeat(shape + conv, FLOAT_EDGES)

    t.section("l with floating conversions has no effect")
    t.case("%lf %le %lg %la %lF %lE %lG %lA", "1.5", "1.5", "1.5", "1.5", "-2.0", "-2.0", "-2.0", "-2.0")

    t.section("long double (L), with values exact in binary64")
    ld_values = ["(long double)0.0", "(long double)-0.0", "(long double)1.0",
                 "(long double)0.1", "(long double)-3.25", "(long double)1e300",
                 "(long double)DBL_MAX", "(long double)DBL_TRUE_MIN",
                 "(long double)INFINITY", "(long double)-NAN", "(long double)123456.789"]
    for conv in "fFeEgGaA":
        for s in ["%L", "%+.3L", "%-#20.10L", "%030.15L", "%.0L", "% L"]:
            t.repeat(s + conv, ld_values if s == "%L" else ld_values[:7])


# ---------------------------------------------------------------- characters, strings, pointers

def char_cases(t):
    t.section("%c")
    values = ["'A'", "(char)'z'", "(char)0", "(char)-1", "(char)127", "(unsigned char)255",
              "(unsigned char)128", "(signed char)-128", "(short)'q'", "' '"]
    for s in ["%c", "%5c", "%-5c", "%1c", "%3c"]:
        t.repeat(s, values)
    t.case("%c%c%c%c%c", "'h'", "'e'", "'l'", "'l'", "'o'")
    t.case("[%lc] [%5lc] [%-5lc]", "(wint_t)L'A'", "(wint_t)L'b'", "(wint_t)L'~'")


def string_cases(t):
    t.section("%s: widths, precisions, empty, long and NULL strings")
    values = ['""', '"a"', '"hello"', '"hello, world"', c_string("tab\tand\nnewline"),
              c_string("caf\u00e9 \u65e5\u672c"), "(const char *)\"const\"",
              "(unsigned char *)\"unsigned\"", "(signed char *)\"signed\""]
    shapes = ["%s", "%10s", "%-10s", "%1s", "%.0s", "%.s", "%.3s", "%.5s", "%10.3s",
              "%-10.3s", "%.100s", "%30s", "%-30.8s"]
    for s in shapes:
        t.repeat(s, values)
    long_text = c_string(LONG_TEXT)
    for s in ["%s", "%.10s", "%.299s", "%.300s", "%.301s", "%320s", "%-320.5s", "%299s"]:
        t.case("[" + s + "]", long_text)
    for s in ["%s", "%.3s", "%.5s", "%.6s", "%.7s", "%10s", "%-10s", "%10.2s", "%.0s", "%3s"]:
        t.repeat(s, [NULL_STR, '"x"'])
    t.case("%s and %s and %s", '"one"', NULL_STR, '""')


POINTERS = ["(void *)0", "(void *)1", "(void *)(uintptr_t)0xdeadbeefUL",
            "(void *)(uintptr_t)0x7ffc12345678UL", "(void *)(uintptr_t)0x8000000000000000UL",
            "(void *)(uintptr_t)UINT64_MAX", "(const void *)(uintptr_t)4096",
            "(int *)(uintptr_t)0x1000", "(const volatile double *)(uintptr_t)0x10"]


def pointer_cases(t):
    t.section("%p: null, small and high addresses")
    for s in ["%p", "%20p", "%-20p", "%1p", "%5p"]:
        t.repeat(s, POINTERS)


# ---------------------------------------------------------------- '*', positions, mixtures

def star_cases(t):
    t.section("'*' widths and '.*' precisions, negative ones included")
    t.case("[%*d] [%*d] [%*d] [%*d]", "5", "42", "-5", "42", "0", "42", "1", "-42")
    t.case("[%-*d] [%-*d] [%0*d] [%0*d]", "5", "42", "-5", "42", "6", "-42", "-6", "-42")
    t.case("[%.*d] [%.*d] [%.*d] [%.*d] [%.*d]", "3", "7", "-1", "7", "0", "0", "-5", "0", "10", "-7")
    t.case("[%*.*d] [%*.*d] [%-*.*x]", "8", "4", "12", "-8", "4", "12", "10", "6", "255u")
    t.case("[%*.*f] [%*.*f] [%*.*f]", "12", "3", "3.14159", "-12", "3", "3.14159", "12", "-3", "3.14159")
    t.case("[%.*e] [%.*e] [%.*g] [%.*a]", "0", "12345.678", "-7", "12345.678", "20", "0.1", "3", "1.0")
    t.case("[%0*.*f] [%+*.*e]", "15", "2", "-3.5", "-15", "2", "3.5")
    t.case("[%*s] [%*s] [%-*s] [%*s]", "8", '"ab"', "-8", '"ab"', "8", '"ab"', "0", '"ab"')
    t.case("[%.*s] [%.*s] [%.*s] [%.*s]", "2", '"abcdef"', "-1", '"abcdef"', "0", '"abcdef"',
           "100", '"abcdef"')
    t.case("[%*.*s] [%*.*s] [%.*s]", "10", "3", '"abcdef"', "-10", "-3", '"abcdef"', "3", NULL_STR)
    t.case("[%*c] [%-*c] [%*c]", "4", "'x'", "4", "'y'", "-4", "'z'")
    t.case("[%*p] [%-*p] [%*p]", "20", "(void *)0x1234", "-20", "(void *)0x1234", "2", "(void *)0")
    t.case("[%*u] [%*o] [%#*x] [%*X]", "6", "7u", "-6", "8u", "8", "255u", "3", "0xABCDu")
    t.case("[%*hhd] [%.*hd] [%*ld] [%.*lld] [%*zu]", "5", "(signed char)-3", "4", "(short)-3",
           "-22", "LONG_MIN", "25", "(long long)INT64_MIN", "22", "SIZE_MAX")
    t.case("[%*.*Lf] [%.*La]", "20", "5", "(long double)2.5", "2", "(long double)0.1")


def positional_cases(t):
    t.section("positional arguments")
    t.case("%2$s=%1$d", "42", '"answer"')
    t.case("%1$s %1$s %1$.2s", '"echo"')
    t.case("%3$d %2$d %1$d", "1", "2", "3")
    t.case("[%1$*2$d] [%1$-*2$d]", "42", "8")
    t.case("[%3$*1$.*2$f] [%3$.*2$e]", "14", "3", "3.14159")
    t.case("%2$lld %1$p %3$c %4$s %5$Lg", "(void *)0x10", "(long long)INT64_MIN", "'q'", NULL_STR,
           "(long double)0.25")


def mixture_cases(t):
    t.section("literal text, %% and mixtures of many arguments")
    t.case("plain text without conversions")
    t.case("%%")
    t.case("100%% done, %%d is not a conversion, %%%% two")
    t.case("%d%%", "50")
    t.case("%%%d%%%s%%", "7", '"x"')
    t.case("request id=%d latency=%f path=%s", "17", "3.25", '"/index.html"')
    t.case("%d %u %ld %lu %lld %llu %hhd %hhu %hd %hu %zu %td %jd %c %s %p",
           "-1", "1u", "-2L", "2UL", "-3LL", "3ULL", "(signed char)-4", "(unsigned char)4",
           "(short)-5", "(unsigned short)5", "(size_t)6", "(ptrdiff_t)-7", "(intmax_t)-8",
           "'9'", '"ten"', "(void *)11")
    t.case("%f %e %g %a %Lf %Le %Lg %La %F %E %G %A %.1f %.1e %.1g %.1a",
           "1.0", "2.0", "3.0", "4.0", "(long double)5.0", "(long double)6.0", "(long double)7.0",
           "(long double)8.0", "9.5", "10.5", "11.5", "12.5", "0.05", "0.15", "0.25", "0.35")
    t.case("%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s", *['"%c"' % chr(ord("a") + i) for i in range(16)])
    t.case("[%5s|%-5d|%05.1f|%x]", '"ab"', "3", "2.25", "255u")
    t.case("bool %d and %d", "(_Bool)0", "(_Bool)1")


def generate():
    t = Table()
    integer_cases(t)
    length_cases(t)
    float_cases(t)
    char_cases(t)
    string_cases(t)
    pointer_cases(t)
    star_cases(t)
    positional_cases(t)
    mixture_cases(t)
    head = """\
/*
 * format_cases.inc - printf cases shared by the format tests.
 * GENERATED by tests/gen_format_cases.py: edit the script, not this file.
 *
 * Each line is FMT_CASE("format", arguments...): a string literal and 0 to
 * 16 arguments of the C types a program would pass, with no semicolon, so
 * that the file that includes it can make each line a statement, a function
 * definition or an initializer (including the file twice, with __LINE__
 * telling the cases apart, gives one function per case and a table of
 * them). The including file defines FMT_CASE(fmt, ...) and FMT_NULL_STR, an
 * expression of type const char * whose value is NULL but that the compiler
 * cannot see is NULL (a const char *volatile variable, say), and includes
 * <float.h>, <limits.h>, <math.h>, <stddef.h>, <stdint.h>, <sys/types.h> and
 * <wchar.h> first.
 *
 * %d cases: %d
 */"""
    return head.replace("%d cases: %d", "%d cases" % t.count) + "\n" + "\n".join(t.lines) + "\n", t.count


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "format_cases.inc")
    text, count = generate()
    with open(out, "w", encoding="utf-8") as f:
        f.write("/* SPDX-License-Identifier: MIT */\n" + text)
    print("%s: %d cases" % (out, count))


if __name__ == "__main__":
    main()
