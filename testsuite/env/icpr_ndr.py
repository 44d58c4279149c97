# [MS-ICPR] CertServerRequest in impacket's NDR classes: a second,
# independent codec for the structures of idl/icpr.idl (which pidl turns
# into the C client), written from the same Microsoft pages:
#
#   [MS-WCCE] 2.2.2.2  typedef struct _CERTTRANSBLOB {
#                          ULONG cb;
#                          [size_is(cb), unique] BYTE *pb;
#                      } CERTTRANSBLOB;
#   [MS-ICPR] 3.2.4.1.1 DWORD CertServerRequest(
#                          [in] handle_t h,
#                          [in] DWORD dwFlags,
#                          [in, string, unique] const wchar_t *pwszAuthority,
#                          [in, out, ref] DWORD *pdwRequestId,
#                          [out] DWORD *pdwDisposition,
#                          [in, ref] const CERTTRANSBLOB *pctbAttribs,
#                          [in, ref] const CERTTRANSBLOB *pctbRequest,
#                          [out, ref] CERTTRANSBLOB *pctbCert,
#                          [out, ref] CERTTRANSBLOB *pctbEncodedCert,
#                          [out, ref] CERTTRANSBLOB *pctbDispositionMessage);
#
# A top-level [ref] pointer has no wire representation of its own: the
# structures it points to are the parameters.  Used by the test endpoint
# (testsuite/env/icpr_server.py) and the codec check (icpr_codec_check.py).

from impacket.dcerpc.v5.dtypes import DWORD, ULONG, LPWSTR, NULL
from impacket.dcerpc.v5.ndr import (NDRCALL, NDRSTRUCT, NDRPOINTER,
                                    NDRUniConformantArray)

ICPR_UUID = '91ae6020-9e3c-11cf-8d7c-00aa00c091be'
ICPR_VERSION = (0, 0)
OPNUM_CERT_SERVER_REQUEST = 0

CR_IN_BINARY = 0x00000002
CR_IN_PKCS10 = 0x00000100
CR_IN_ENCODEMASK = 0x000000ff
CR_IN_FORMATMASK = 0x0000ff00

CR_DISP_DENIED = 0x00000002
CR_DISP_ISSUED = 0x00000003
CR_DISP_UNDER_SUBMISSION = 0x00000005


class BYTE_ARRAY(NDRUniConformantArray):
    item = 'c'


class PBYTE_ARRAY(NDRPOINTER):
    referent = (
        ('Data', BYTE_ARRAY),
    )


class CERTTRANSBLOB(NDRSTRUCT):
    structure = (
        ('cb', ULONG),
        ('pb', PBYTE_ARRAY),
    )


class CertServerRequest(NDRCALL):
    opnum = OPNUM_CERT_SERVER_REQUEST
    structure = (
        ('dwFlags', DWORD),
        ('pwszAuthority', LPWSTR),
        ('pdwRequestId', DWORD),
        ('pctbAttribs', CERTTRANSBLOB),
        ('pctbRequest', CERTTRANSBLOB),
    )


class CertServerRequestResponse(NDRCALL):
    structure = (
        ('pdwRequestId', DWORD),
        ('pdwDisposition', DWORD),
        ('pctbCert', CERTTRANSBLOB),
        ('pctbEncodedCert', CERTTRANSBLOB),
        ('pctbDispositionMessage', CERTTRANSBLOB),
        ('ErrorCode', DWORD),
    )


def blob_bytes(blob):
    """The bytes of a decoded CERTTRANSBLOB (b'' for a NULL pb)."""
    ptr = blob.fields['pb']
    if ptr['ReferentID'] == 0:
        return b''
    data = ptr['Data']
    return b''.join(data) if isinstance(data, list) else bytes(data)


def blob_is_null(blob):
    """Whether pb went on the wire as a NULL pointer."""
    return blob.fields['pb']['ReferentID'] == 0


def make_blob(data):
    """A CERTTRANSBLOB for @data: NULL pb when empty, as Windows sends."""
    b = CERTTRANSBLOB()
    b['cb'] = len(data)
    if data:
        b['pb'] = list(bytes([c]) for c in data)
    else:
        b['pb'] = NULL
    return b


def utf16z(text):
    """UTF-16LE with its terminating NUL, as pctbAttribs and messages."""
    return (text + '\0').encode('utf-16-le')


def decode_request(stub):
    r = CertServerRequest()
    r.fromString(stub)
    return r


def encode_response(request_id, disposition, cert=b'', encoded_cert=b'',
                    message='', error=0):
    r = CertServerRequestResponse()
    r['pdwRequestId'] = request_id
    r['pdwDisposition'] = disposition
    r['pctbCert'] = make_blob(cert)
    r['pctbEncodedCert'] = make_blob(encoded_cert)
    r['pctbDispositionMessage'] = make_blob(utf16z(message) if message
                                            else b'')
    r['ErrorCode'] = error
    return r.getData()


def decode_response(stub):
    r = CertServerRequestResponse()
    r.fromString(stub)
    return r
