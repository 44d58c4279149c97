#!/usr/bin/python3
# The CertServerRequest wire format of the C client (pidl's NDR) checked
# with a second codec, impacket's, through the structures written from
# the spec in testsuite/env/icpr_ndr.py.
#
#   icpr_codec_check.py request REQ.ndr CSR.der CA_NAME TEMPLATE
#       REQ.ndr: the decrypted request stub the test endpoint captured;
#       every field must be what the client was asked to send
#   icpr_codec_check.py response RSP.ndr TOOL_OUTPUT [DIR]
#       RSP.ndr: the response stub the endpoint sent (encoded by
#       impacket); TOOL_OUTPUT: what icpr_enroll printed after pidl's
#       code decoded it; DIR: where it wrote cert.pem and pkcs7.der
#
# One line per field, "ok" or "FAIL"; exit 1 on any failure.

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..', 'env'))
import icpr_ndr  # noqa: E402

failed = 0


def check(name, want, got):
    global failed
    if want == got:
        print('ok   %s' % name)
    else:
        failed += 1
        print('FAIL %s: want %r, got %r' % (name, want, got))


def request(stub_file, csr_file, ca_name, template):
    stub = open(stub_file, 'rb').read()
    csr = open(csr_file, 'rb').read()
    r = icpr_ndr.decode_request(stub)
    check('dwFlags (CR_IN_BINARY | CR_IN_PKCS10)',
          icpr_ndr.CR_IN_BINARY | icpr_ndr.CR_IN_PKCS10, r['dwFlags'])
    check('pwszAuthority', ca_name + '\0', r['pwszAuthority'])
    check('pdwRequestId', 0, r['pdwRequestId'])
    attribs = icpr_ndr.utf16z('CertificateTemplate:' + template)
    check('pctbAttribs.cb (bytes with the NUL)', len(attribs),
          r['pctbAttribs']['cb'])
    check('pctbAttribs.pb (UTF-16LE)', attribs,
          icpr_ndr.blob_bytes(r['pctbAttribs']))
    check('pctbRequest.cb', len(csr), r['pctbRequest']['cb'])
    check('pctbRequest.pb (the PKCS #10)', csr,
          icpr_ndr.blob_bytes(r['pctbRequest']))
    # what impacket writes for these values has the same length: no
    # field, pointer or conformance count more or less on the wire.  The
    # endpoint captured the stub up to the client's verification trailer
    # ([MS-RPCE] 2.2.2.13), which starts 4-byte aligned: up to 3 zero
    # bytes of that alignment may end the capture.
    again = icpr_ndr.CertServerRequest()
    for f in ('dwFlags', 'pwszAuthority', 'pdwRequestId'):
        again[f] = r[f]
    again['pctbAttribs'] = icpr_ndr.make_blob(attribs)
    again['pctbRequest'] = icpr_ndr.make_blob(csr)
    n = len(again.getData())
    tail = stub[n:]
    check('stub length (to the trailer alignment)', True,
          len(tail) < 4 and tail == b'\0' * len(tail) and
          len(stub) % 4 == 0)


def tool_fields(path):
    fields = {}
    for line in open(path, encoding='utf-8'):
        key, sep, value = line.rstrip('\n').partition(': ')
        if sep and key not in fields:
            fields[key] = value
    return fields


def der_of_pem(path):
    return subprocess.run(['openssl', 'x509', '-in', path, '-outform',
                           'DER'], check=True, capture_output=True).stdout


def response(stub_file, output, out_dir=None):
    r = icpr_ndr.decode_response(open(stub_file, 'rb').read())
    t = tool_fields(output)
    check('pdwRequestId', str(r['pdwRequestId']), t.get('request-id'))
    check('pdwDisposition', str(r['pdwDisposition']), t.get('disposition'))
    msg = icpr_ndr.blob_bytes(r['pctbDispositionMessage'])
    msg = msg.decode('utf-16-le').rstrip('\0').rstrip('\r\n ')
    check('pctbDispositionMessage', msg, t.get('message'))
    if out_dir is None:
        return
    check('pctbEncodedCert', icpr_ndr.blob_bytes(r['pctbEncodedCert']),
          der_of_pem(os.path.join(out_dir, 'cert.pem')))
    check('pctbCert (PKCS #7)', icpr_ndr.blob_bytes(r['pctbCert']),
          open(os.path.join(out_dir, 'pkcs7.der'), 'rb').read())


def main():
    if len(sys.argv) == 6 and sys.argv[1] == 'request':
        request(*sys.argv[2:])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == 'response':
        response(*sys.argv[2:])
    else:
        sys.exit('usage: icpr_codec_check.py request REQ CSR CA TEMPLATE | '
                 'response RSP OUTPUT [DIR]')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
