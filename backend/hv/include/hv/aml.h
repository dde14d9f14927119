/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small AML encoder, enough of the ACPI Machine Language (ACPI 6.x, chapter
 * 20) to describe a static machine in a DSDT.
 *
 * Objects are written in order into one byte buffer. The ones that carry a
 * PkgLength (Scope, Device, Method, Package, Buffer, ResourceTemplate) are
 * opened with aml_*_begin and closed with aml_end: only then is the length
 * known, and the PkgLength is inserted in front of the body.
 *
 * A value object (integer, string, EISAID, package, buffer, name reference)
 * is accepted where the grammar expects one: as a Package element, or as the
 * operand that an aml_name or aml_return has left pending. Resource
 * descriptors are accepted only inside a ResourceTemplate.
 *
 * Errors are sticky: the first one is kept, later calls return it and write
 * nothing, and aml_finish reports it. A builder can emit a whole tree and
 * check once.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deep enough for \_SB.PCI0.DEV.Method(Package(Package())). */
#define AML_MAX_DEPTH      16
/* PkgLength is at most 4 bytes: 4 + 8 + 8 + 8 bits. */
#define AML_PKGLENGTH_MAX  UINT32_C(0x0FFFFFFF)
/* Package's NumElements is one byte; larger ones need VarPackage. */
#define AML_PACKAGE_MAX    255
/* MultiNamePrefix's SegCount is one byte. */
#define AML_NAMESEGS_MAX   255

struct aml;

struct aml *aml_new(void);
void aml_free(struct aml *b);

/*
 * The encoded bytes, valid until the next call on b or aml_free. Returns the
 * sticky error, or -EINVAL if a Scope/Device/... is still open.
 */
int aml_finish(const struct aml *b, const uint8_t **data, size_t *len);

/* Low level, for tests and for callers that encode by hand. */
/* Encodes value as a PkgLength; returns its size (1-4) or -ERANGE. */
int aml_pkglength_encode(uint32_t value, uint8_t out[4]);
/* One NameSeg from 1-4 characters ([A-Z_][A-Z0-9_]*), padded with '_'. */
int aml_nameseg(const char *name, char out[4]);

/* Value objects. */
/* Zero, One, Ones (only for UINT64_MAX: DSDT revision 2 has 64-bit integers),
 * else the shortest of BytePrefix, WordPrefix, DWordPrefix, QWordPrefix. */
int aml_integer(struct aml *b, uint64_t value);
int aml_string(struct aml *b, const char *s);
/* "PNP0A03" and the like: the compressed 32-bit EISA id, as a DWord. */
int aml_eisaid(struct aml *b, const char *id);
int aml_buffer(struct aml *b, const void *data, size_t len);
/* A reference to a named object: "\\_SB.PCI0", "^FOO", "_S5". */
int aml_namestring(struct aml *b, const char *path);

/* Name(name, <next value object>). */
int aml_name(struct aml *b, const char *name);
int aml_name_integer(struct aml *b, const char *name, uint64_t value);
int aml_name_string(struct aml *b, const char *name, const char *s);
int aml_name_eisaid(struct aml *b, const char *name, const char *id);
/* Return(<next value object>); only inside a Method. */
int aml_return(struct aml *b);

/* Opened objects; each is closed by aml_end. */
int aml_scope_begin(struct aml *b, const char *path);
int aml_device_begin(struct aml *b, const char *name);
int aml_method_begin(struct aml *b, const char *name, unsigned nargs, bool serialized);
/* NumElements is counted, not declared. */
int aml_package_begin(struct aml *b);
/* A Buffer of resource descriptors; aml_end appends the EndTag and its checksum. */
int aml_restemplate_begin(struct aml *b);
int aml_end(struct aml *b);

/* Resource descriptors (ACPI 6.x section 6.4). */
enum aml_usage {
	AML_PRODUCER = 0,   /* a bridge window: the device decodes it for its children */
	AML_CONSUMER = 1,
};

enum aml_cache {
	AML_NON_CACHEABLE = 0,
	AML_CACHEABLE = 1,
	AML_WRITE_COMBINING = 2,
	AML_PREFETCHABLE = 3,
};

/* IO(Decode16, min, max, align, len). */
int aml_res_io(struct aml *b, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
/* IRQNoFlags() { irqs in mask }: edge, active high, exclusive. */
int aml_res_irq_noflags(struct aml *b, uint16_t mask);
/*
 * Address space descriptors with MinFixed, MaxFixed, PosDecode, granularity
 * and translation 0; the length is max - min + 1, -ERANGE if it does not fit.
 */
int aml_res_word_bus_number(struct aml *b, enum aml_usage use, uint16_t min, uint16_t max);
int aml_res_word_io(struct aml *b, enum aml_usage use, uint16_t min, uint16_t max);
int aml_res_dword_io(struct aml *b, enum aml_usage use, uint32_t min, uint32_t max);
int aml_res_dword_memory(struct aml *b, enum aml_usage use, enum aml_cache cache, bool rw,
			 uint32_t min, uint32_t max);
int aml_res_qword_memory(struct aml *b, enum aml_usage use, enum aml_cache cache, bool rw,
			 uint64_t min, uint64_t max);
