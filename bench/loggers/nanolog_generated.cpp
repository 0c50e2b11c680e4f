/* SPDX-License-Identifier: MIT */
/*
 * nanolog_generated.cpp - the definitions NanoLog's runtime library expects
 * from its preprocessor variant, empty.
 *
 * NanoLog's runtime (Log.cc) refers to the tables its preprocessor
 * generates for a program's log statements (namespace GeneratedFunctions,
 * declared in its GeneratedCode.h); its own build links a generated file
 * from a test program to satisfy them. A program that uses only the C++17
 * API has no such statements, so here the tables are empty: no log id is
 * ever looked up in them, and no dictionary is written from them.
 */
#include <GeneratedCode.h>

namespace GeneratedFunctions {

size_t numLogIds = 0;

struct LogMetadata logId2Metadata[1] = {{"", "", 0, NanoLog::LogLevels::NOTICE}};

ssize_t (*compressFnArray[1])(NanoLogInternal::Log::UncompressedEntry *, char *) = {nullptr};

void (*decompressAndPrintFnArray[1])(const char **, FILE *, void (*)(const char *, ...)) = {nullptr};

long int writeDictionary(char *, char *)
{
	return 0;
}

} // namespace GeneratedFunctions
