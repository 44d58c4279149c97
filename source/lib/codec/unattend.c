/*
 * Windows answer files: the unattend.xml fragment that has Windows Setup
 * join the domain offline from a provisioning blob.
 *
 * Microsoft's unattend reference, component Microsoft-Windows-
 * UnattendedJoin: the blob's base64 (djoin /PRINTBLOB) goes into
 * OfflineIdentification/Provisioning/AccountData for the offlineServicing
 * pass and into Identification/Provisioning/AccountData for the specialize
 * pass.  Both are written, as in Microsoft's "Offline Domain Join
 * (Djoin.exe) Step-by-Step Guide": whichever pass the image is built for
 * finds its element.
 */

#include "codec/codec.h"

#include <stdio.h>

#define UNATTEND_NS "urn:schemas-microsoft-com:unattend"
#define WCM_NS "http://schemas.microsoft.com/WMIConfig/2002/State"
#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

/* processorArchitecture values Windows images carry */
static const char * const known_arches[] = { "amd64", "x86", "arm64", NULL };

static bool known_arch(const char *arch)
{
	size_t i;

	for (i = 0; known_arches[i] != NULL; i++) {
		if (strcmp(arch, known_arches[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* One pass: its settings element with the UnattendedJoin component. */
static char *settings(TALLOC_CTX *mem_ctx, const char *pass,
		      const char *identification, const char *arch,
		      const char *base64)
{
	return talloc_asprintf(
		mem_ctx,
		"  <settings pass=\"%s\">\n"
		"    <component name=\"Microsoft-Windows-UnattendedJoin\""
		" processorArchitecture=\"%s\""
		" publicKeyToken=\"31bf3856ad364e35\""
		" language=\"neutral\" versionScope=\"nonSxS\""
		" xmlns:wcm=\"" WCM_NS "\""
		" xmlns:xsi=\"" XSI_NS "\">\n"
		"      <%s>\n"
		"        <Provisioning>\n"
		"          <AccountData>%s</AccountData>\n"
		"        </Provisioning>\n"
		"      </%s>\n"
		"    </component>\n"
		"  </settings>\n",
		pass, arch, identification, base64, identification);
}

NTSTATUS odj_unattend_xml(TALLOC_CTX *mem_ctx,
			  DATA_BLOB ndr,
			  const char *arch,
			  char **_xml,
			  char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	char *b64 = NULL;
	char *offline = NULL;
	char *specialize = NULL;
	char *xml = NULL;
	NTSTATUS status;

	if (arch == NULL) {
		arch = "amd64";
	}
	if (!known_arch(arch)) {
		odj_why(mem_ctx, why, "unknown processor architecture '%s' "
			"(amd64, x86 or arm64)", arch);
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (ndr.length == 0) {
		odj_why(mem_ctx, why, "an empty blob has no answer file");
		return NT_STATUS_INVALID_PARAMETER;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	/* base64 needs no XML escaping: A-Z a-z 0-9 + / = */
	status = odj_file_base64(tmp_ctx, ndr, &b64);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(tmp_ctx);
		return status;
	}
	offline = settings(tmp_ctx, "offlineServicing",
			   "OfflineIdentification", arch, b64);
	odj_wipe_on_free(offline);
	specialize = settings(tmp_ctx, "specialize", "Identification", arch,
			      b64);
	odj_wipe_on_free(specialize);
	if (offline != NULL && specialize != NULL) {
		xml = talloc_asprintf(mem_ctx,
				      "<?xml version=\"1.0\" "
				      "encoding=\"utf-8\"?>\n"
				      "<unattend xmlns=\"" UNATTEND_NS "\">\n"
				      "%s%s</unattend>\n",
				      offline, specialize);
	}
	odj_wipe_on_free(xml);
	TALLOC_FREE(tmp_ctx);
	if (xml == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*_xml = xml;
	return NT_STATUS_OK;
}

NTSTATUS odj_unattend_save(TALLOC_CTX *mem_ctx,
			   const char *path,
			   DATA_BLOB ndr,
			   const char *arch,
			   bool overwrite,
			   char **why)
{
	char *xml = NULL;
	NTSTATUS status;

	status = odj_file_check_target(mem_ctx, path, overwrite, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = odj_unattend_xml(mem_ctx, ndr, arch, &xml, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* 0600: it holds the machine password */
	status = odj_file_write(mem_ctx, path,
				data_blob_const(xml, strlen(xml)), 0600,
				overwrite ? 0 : ODJ_WRITE_NO_REPLACE, why);
	TALLOC_FREE(xml);
	return status;
}
