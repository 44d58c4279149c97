/*
 * samba-odj: Offline Domain Join for Samba.
 *
 * The library, by side:
 *
 *   odj/util.h        SIDs as text, buffers wiped when freed
 *   odj/codec.h       the blob: file framing, NDR, dump, compose, the
 *                     join it describes, unattend.xml
 *   odj/formats.h     SST, PFX, certificate fields, Registry.pol
 *   odj/client.h      the joining machine: requestodj (no network)
 *   odj/dc.h          a DC connection and provisioning one machine
 *   odj/batch.h       provisioning many machines
 *   odj/extensions.h  the 2012 extensions on the DC side
 *   odj/lifecycle.h   what became of blobs: verify, status, expire
 *   odj/rodc.h        branch offices: RODCs, their passwords
 *
 * `odj` (the client program) links util, codec and client only; DC code
 * is out of its reach (the link fails).  `odj-dc` links everything.
 *
 * Rules every function follows:
 *
 * - Memory: every function that allocates takes a talloc context first
 *   and hangs its results there only on success.  Buffers that hold a
 *   password, a key or a blob are wiped when freed.
 * - Errors are NTSTATUS.  Where a user should learn what went wrong, a
 *   function takes "char **why": on failure it may set *why to one line,
 *   on the function's mem_ctx, that names the object and the reason
 *   ("<path>: is a directory", "blob 2 part 2 (JOIN_PROVIDER3):
 *   truncated at byte 48"), without a trailing period, without the
 *   program's name, and never with a secret in it.  A NULL why means
 *   the caller does not want the message.  The status alone decides the
 *   exit code (one table, in the command line); the message only says
 *   more.
 * - Anything that talks to a DC is a tevent _send/_recv pair; only the
 *   outermost calls have a synchronous form.
 */

#ifndef _ODJ_H_
#define _ODJ_H_

#include "odj/util.h"
#include "odj/codec.h"
#include "odj/formats.h"
#include "odj/client.h"
#include "odj/dc.h"
#include "odj/batch.h"
#include "odj/extensions.h"
#include "odj/lifecycle.h"
#include "odj/rodc.h"

#endif /* _ODJ_H_ */
