#include "odj.h"
#include <stdio.h>
int main(int argc, const char **argv)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	DATA_BLOB ndr;
	char *why = NULL;
	struct odj_provision_data *pd = NULL;
	NTSTATUS st = odj_file_load(ctx, argv[1], &ndr, &why);
	if (!NT_STATUS_IS_OK(st)) { fprintf(stderr, "%s\n", why); return 1; }
	st = odj_provision_data_decode(ctx, ndr, &pd, &why);
	if (!NT_STATUS_IS_OK(st)) { fprintf(stderr, "%s\n", why); return 1; }
	printf("ok %u blobs\n", pd->num_blobs);
	return 0;
}
