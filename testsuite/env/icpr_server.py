#!/usr/bin/python3
# An MS-ICPR (ICertPassage) endpoint for the tests: what an AD CS
# enterprise CA answers to CertServerRequest, on loopback, against the
# throwaway DC.  Started and stopped by pid through testsuite/env/ca.sh.
#
# What is real here, and whose code it is:
#   * Authentication: Samba's gensec as the *server* (samba.gensec, the
#     code behind every Samba DCE/RPC server), SPNEGO/Kerberos in DCE
#     style, with the CA host's machine account keys (CA1$, its password
#     set on the DC by ca.sh): a service ticket the DC's KDC did not
#     issue for CA1$ cannot be decrypted.  The caller's identity is the
#     session_info gensec builds from the ticket's PAC (user SID, groups);
#     nothing the client merely claims is used.
#   * Packet privacy: Samba's gensec_seal_packet()/gensec_unseal_packet()
#     on that same gensec context.  samba.gensec has sign_packet and
#     check_packet but no seal binding, so these two are called through
#     ctypes in the libgensec that samba.gensec itself loaded, with the
#     context's own pointer (checked to be a "struct gensec_security").
#   * DCE/RPC PDUs and the endpoint mapper: Samba's NDR (samba.dcerpc.
#     dcerpc.ncacn_packet, samba.dcerpc.epmapper.epm_Map); the protocol
#     state (bind, alter_context, auth3, request fragments) is this
#     file's, in the order [MS-RPCE] and C706 give it.
#   * CertServerRequest: impacket's NDR with the structures written from
#     the spec (icpr_ndr.py): a codec independent of pidl's C client.
#   * The CA's decisions, from AD as AD CS makes them: the caller must be
#     a computer account of the domain (the Machine template's enroll
#     right belongs to Domain Computers), looked up by the SID of its
#     ticket; the template must be in this CA's certificateTemplates and
#     exist; CT_FLAG_PEND_ALL_REQUESTS in its msPKI-Enrollment-Flag means
#     "taken under submission"; subject CN and SAN dNSName are the
#     account's dNSHostName, the SID extension its objectSid, key usage,
#     EKUs and validity from the template, the request's own names are
#     ignored.  Signed by the test CA's key (python3-cryptography).
#
# Capture: every CertServerRequest's decrypted request and response stub
# is written to --capture DIR (req-N.ndr, rsp-N.ndr) for the codec check.
# Override: a JSON file --override FILE, when present, replaces the
# answer to the next request (fields as in icpr_ndr.encode_response),
# then is removed; it lets a test send answers no policy would produce.

import argparse
import base64
import ctypes
import datetime
import json
import os
import re
import socket
import socketserver
import struct
import sys
import threading
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ldb  # noqa: E402
from samba import auth, credentials, gensec  # noqa: E402
from samba.dcerpc import dcerpc, epmapper, misc  # noqa: E402
from samba.ndr import ndr_pack, ndr_print, ndr_unpack  # noqa: E402
from samba.param import LoadParm  # noqa: E402
from samba.samdb import SamDB  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa
from cryptography.hazmat.primitives.serialization import pkcs7  # noqa
from cryptography.x509.oid import NameOID, ObjectIdentifier  # noqa: E402

import icpr_ndr  # noqa: E402

NDR32 = ('8a885d04-1ceb-11c9-9fe8-08002b104860', 2)
BTFN_PREFIX = '6cb71c2c-9812-4540-'   # bind time feature negotiation
EPM = ('e1af8308-5d1f-11c9-91a4-08002b14a0fa', 3)
ICPR = (icpr_ndr.ICPR_UUID, 0)

SEC_CHAN_WKSTA = 2
UF_WORKSTATION_TRUST_ACCOUNT = 0x1000
UF_SERVER_TRUST_ACCOUNT = 0x2000
DOMAIN_RID_COMPUTERS = 515
DOMAIN_RID_DCS = 516
CT_FLAG_PEND_ALL_REQUESTS = 0x2
CT_FLAG_NO_SECURITY_EXTENSION = 0x80000
CT_FLAG_SUBJECT_ALT_REQUIRE_DNS = 0x08000000
CT_FLAG_SUBJECT_REQUIRE_DNS_AS_CN = 0x10000000
EPMAPPER_STATUS_NO_MORE_ENTRIES = 0x16c9a0d6
VT_MAGIC = bytes([0x8a, 0xe3, 0x13, 0x71, 0x02, 0xf4, 0x36, 0x71])

E_INVALIDARG = 0x80070057
NTE_BAD_SIGNATURE = 0x80090006
CERTSRV_E_TEMPLATE_DENIED = 0x80094012
CERTSRV_E_UNSUPPORTED_CERT_TYPE = 0x80094800
CERTSRV_E_NO_CERT_TYPE = 0x80094801
CERTSRV_E_SUBJECT_DNS_REQUIRED = 0x8009480F
MESSAGES = {
    CERTSRV_E_TEMPLATE_DENIED: 'The permissions on the certificate '
    'template do not allow the current user to enroll for this type of '
    'certificate.',
    CERTSRV_E_UNSUPPORTED_CERT_TYPE: 'The requested certificate template '
    'is not supported by this CA.',
    CERTSRV_E_NO_CERT_TYPE: 'The request contains no certificate '
    'template information.',
    CERTSRV_E_SUBJECT_DNS_REQUIRED: 'The Domain Name System (DNS) name is '
    'unavailable and cannot be added to the Subject Alternate name.',
    NTE_BAD_SIGNATURE: 'Invalid Signature.',
}

OID_TEMPLATE_V1 = '1.3.6.1.4.1.311.20.2'
OID_TEMPLATE_V2 = '1.3.6.1.4.1.311.21.7'
OID_NTDS_CA_SECURITY_EXT = '1.3.6.1.4.1.311.25.2'
OID_NTDS_OBJECTSID = '1.3.6.1.4.1.311.25.2.1'

LOG_LOCK = threading.Lock()
DEBUG = os.environ.get('ICPR_SERVER_DEBUG') == '1'


def log(msg):
    with LOG_LOCK:
        stamp = datetime.datetime.now().strftime('%H:%M:%S.%f')[:-3]
        sys.stderr.write('%s icpr_server: %s\n' % (stamp, msg))
        sys.stderr.flush()


class Refused(Exception):
    """A DCE/RPC level refusal: answered with a fault or bind_nak."""

    def __init__(self, status, why):
        super().__init__(why)
        self.status = status


# --- Samba's packet protection, through ctypes ---------------------------

class _Blob(ctypes.Structure):
    _fields_ = [('data', ctypes.c_void_p), ('length', ctypes.c_size_t)]


def _loaded_library(name):
    with open('/proc/self/maps') as f:
        for line in f:
            path = line.split()[-1]
            if os.path.basename(path).startswith(name):
                return path
    raise RuntimeError('%s is not loaded' % name)


class PacketProtection:
    """gensec_{seal,unseal}_packet and gensec_sig_size on a pygensec."""

    def __init__(self):
        self.lib = ctypes.CDLL(_loaded_library('libgensec-samba4.so'))
        self.talloc = ctypes.CDLL(_loaded_library('libtalloc.so'))
        self.talloc.talloc_get_name.restype = ctypes.c_char_p
        self.talloc.talloc_get_name.argtypes = [ctypes.c_void_p]
        self.talloc._talloc_free.restype = ctypes.c_int
        self.talloc._talloc_free.argtypes = [ctypes.c_void_p,
                                             ctypes.c_char_p]
        f = self.lib.gensec_seal_packet
        f.restype = ctypes.c_uint32
        f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                      ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                      ctypes.POINTER(_Blob)]
        f = self.lib.gensec_unseal_packet
        f.restype = ctypes.c_uint32
        f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                      ctypes.c_void_p, ctypes.c_size_t,
                      ctypes.POINTER(_Blob)]
        f = self.lib.gensec_sig_size
        f.restype = ctypes.c_size_t
        f.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

    def pointer(self, g):
        # pytalloc's repr names the talloc pointer it wraps
        m = re.search(r'object at (0x[0-9a-f]+)>', repr(g))
        if m is None:
            raise RuntimeError('no talloc pointer in %r' % g)
        ptr = int(m.group(1), 16)
        if self.talloc.talloc_get_name(ptr) != b'struct gensec_security':
            raise RuntimeError('%r is no gensec_security' % g)
        return ptr

    def sig_size(self, g, length):
        return self.lib.gensec_sig_size(self.pointer(g), length)

    def unseal(self, g, pdu, ofs_data, len_data, len_whole, sig):
        buf = ctypes.create_string_buffer(bytes(pdu), len(pdu))
        sigbuf = ctypes.create_string_buffer(bytes(sig), len(sig))
        blob = _Blob(ctypes.cast(sigbuf, ctypes.c_void_p), len(sig))
        base = ctypes.addressof(buf)
        st = self.lib.gensec_unseal_packet(self.pointer(g), base + ofs_data,
                                           len_data, base, len_whole,
                                           ctypes.byref(blob))
        if st != 0:
            raise Refused(dcerpc.DCERPC_FAULT_SEC_PKG_ERROR,
                          'unseal failed: 0x%08x' % st)
        return buf.raw[ofs_data:ofs_data + len_data]

    def seal(self, g, pdu, ofs_data, len_data, len_whole):
        buf = ctypes.create_string_buffer(bytes(pdu), len(pdu))
        blob = _Blob(None, 0)
        base = ctypes.addressof(buf)
        st = self.lib.gensec_seal_packet(self.pointer(g), None,
                                         base + ofs_data, len_data, base,
                                         len_whole, ctypes.byref(blob))
        if st != 0:
            raise Refused(dcerpc.DCERPC_FAULT_SEC_PKG_ERROR,
                          'seal failed: 0x%08x' % st)
        sig = ctypes.string_at(blob.data, blob.length)
        self.talloc._talloc_free(blob.data, b'icpr_server')
        return buf.raw, sig


# --- The CA's view of AD -------------------------------------------------

def _one(msg, attr, default=None):
    if attr not in msg:
        return default
    return msg[attr][0]


def _str(msg, attr, default=None):
    v = _one(msg, attr)
    return default if v is None else str(v)


class Directory:
    """The DC, read as the CA host's machine account (Kerberos)."""

    def __init__(self, lp, creds, dc):
        self.lock = threading.Lock()
        self.db = SamDB(url='ldap://%s' % dc, credentials=creds, lp=lp)
        self.domain_dn = str(self.db.domain_dn())
        self.config_dn = str(self.db.get_config_basedn())
        self.domain_sid = str(self.db.get_domain_sid())

    def search(self, base, scope, attrs, expression=None):
        with self.lock:
            return self.db.search(base=base, scope=scope, attrs=attrs,
                                  expression=expression)

    def account_by_sid(self, sid):
        res = self.search('<SID=%s>' % sid, ldb.SCOPE_BASE,
                          ['objectClass', 'sAMAccountName', 'dNSHostName',
                           'objectSid', 'userAccountControl'])
        return res[0] if len(res) == 1 else None

    def enrollment_service(self, ca_name):
        res = self.search('CN=Enrollment Services,CN=Public Key Services,'
                          'CN=Services,' + self.config_dn,
                          ldb.SCOPE_ONELEVEL, ['cn', 'certificateTemplates'],
                          '(&(objectClass=pKIEnrollmentService)(cn=%s))' %
                          ldb.binary_encode(ca_name))
        return res[0] if len(res) == 1 else None

    def template(self, name):
        res = self.search('CN=Certificate Templates,CN=Public Key Services,'
                          'CN=Services,' + self.config_dn,
                          ldb.SCOPE_ONELEVEL, ['*'],
                          '(&(objectClass=pKICertificateTemplate)(cn=%s))' %
                          ldb.binary_encode(name))
        return res[0] if len(res) == 1 else None


# --- Issuing -------------------------------------------------------------

def _der(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([n])
    elif n < 0x100:
        head = bytes([0x81, n])
    else:
        head = bytes([0x82, n >> 8, n & 0xff])
    return bytes([tag]) + head + body


def _der_oid(dotted):
    arcs = [int(a) for a in dotted.split('.')]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for a in arcs[2:]:
        enc = [a & 0x7f]
        a >>= 7
        while a:
            enc.insert(0, 0x80 | (a & 0x7f))
            a >>= 7
        out += bytes(enc)
    return _der(0x06, bytes(out))


def _der_int(v):
    b = v.to_bytes((v.bit_length() + 8) // 8 or 1, 'big', signed=True)
    return _der(0x02, b)


def security_extension(sid):
    # [MS-WCCE] 2.2.2.7.7.4: SEQUENCE { otherName [0] { type-id
    # 1.3.6.1.4.1.311.25.2.1, value [0] EXPLICIT OCTET STRING sid } }
    value = _der(0xa0, _der(0x04, sid.encode('ascii')))
    other = _der(0xa0, _der_oid(OID_NTDS_OBJECTSID) + value)
    return _der(0x30, other)


def template_extension(tmpl):
    version = int(_str(tmpl, 'msPKI-Template-Schema-Version', '1'))
    oid = _str(tmpl, 'msPKI-Cert-Template-OID')
    if version >= 2 and oid:
        body = (_der_oid(oid) + _der_int(int(_str(tmpl, 'revision', '0'))) +
                _der_int(int(_str(tmpl, 'msPKI-Template-Minor-Revision',
                                  '0'))))
        return OID_TEMPLATE_V2, _der(0x30, body)
    name = _str(tmpl, 'cn')
    return OID_TEMPLATE_V1, _der(0x1e, name.encode('utf-16-be'))


def key_usage(tmpl):
    raw = bytes(_one(tmpl, 'pKIKeyUsage', b'\xa0\x00'))
    b0 = raw[0] if raw else 0xa0
    b1 = raw[1] if len(raw) > 1 else 0
    return x509.KeyUsage(
        digital_signature=bool(b0 & 0x80), content_commitment=bool(b0 & 0x40),
        key_encipherment=bool(b0 & 0x20), data_encipherment=bool(b0 & 0x10),
        key_agreement=bool(b0 & 0x08), key_cert_sign=bool(b0 & 0x04),
        crl_sign=bool(b0 & 0x02),
        encipher_only=bool(b0 & 0x08) and bool(b0 & 0x01),
        decipher_only=bool(b0 & 0x08) and bool(b1 & 0x80))


def validity(tmpl):
    raw = _one(tmpl, 'pKIExpirationPeriod')
    if raw is None or len(bytes(raw)) != 8:
        return datetime.timedelta(days=365)
    ticks = struct.unpack('<q', bytes(raw))[0]
    return datetime.timedelta(seconds=-ticks // 10000000)


class CA:
    def __init__(self, cert_file, key_file):
        with open(cert_file, 'rb') as f:
            self.cert = x509.load_pem_x509_certificate(f.read())
        with open(key_file, 'rb') as f:
            self.key = serialization.load_pem_private_key(f.read(), None)

    def issue(self, csr, tmpl, dns_name, sid):
        now = datetime.datetime.utcnow()
        start = max(now - datetime.timedelta(minutes=10),
                    self.cert.not_valid_before)
        end = min(now + validity(tmpl), self.cert.not_valid_after)
        names = int(_str(tmpl, 'msPKI-Certificate-Name-Flag', '0'))
        enroll = int(_str(tmpl, 'msPKI-Enrollment-Flag', '0'))
        critical = [str(v) for v in tmpl.get('pKICriticalExtensions', [])]
        subject = []
        if names & CT_FLAG_SUBJECT_REQUIRE_DNS_AS_CN:
            subject.append(x509.NameAttribute(NameOID.COMMON_NAME, dns_name))
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name(subject))
             .issuer_name(self.cert.subject)
             .public_key(csr.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(start).not_valid_after(end))
        if names & CT_FLAG_SUBJECT_ALT_REQUIRE_DNS:
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(dns_name)]), critical=False)
        b = b.add_extension(key_usage(tmpl), critical='2.5.29.15' in critical)
        ekus = [ObjectIdentifier(str(v))
                for v in tmpl.get('pKIExtendedKeyUsage', [])]
        if ekus:
            b = b.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
        b = b.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(csr.public_key()),
            critical=False)
        try:
            ski = self.cert.extensions.get_extension_for_class(
                x509.SubjectKeyIdentifier).value
            aki = x509.AuthorityKeyIdentifier.\
                from_issuer_subject_key_identifier(ski)
        except x509.ExtensionNotFound:
            aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key())
        b = b.add_extension(aki, critical=False)
        oid, ext = template_extension(tmpl)
        b = b.add_extension(x509.UnrecognizedExtension(
            ObjectIdentifier(oid), ext), critical=False)
        if not enroll & CT_FLAG_NO_SECURITY_EXTENSION:
            b = b.add_extension(x509.UnrecognizedExtension(
                ObjectIdentifier(OID_NTDS_CA_SECURITY_EXT),
                security_extension(sid)), critical=False)
        cert = b.sign(self.key, hashes.SHA256())
        der = cert.public_bytes(serialization.Encoding.DER)
        chain = pkcs7.serialize_certificates([cert, self.cert],
                                             serialization.Encoding.DER)
        return der, chain


# --- The policy: what AD CS decides --------------------------------------

class Policy:
    def __init__(self, args, directory, ca):
        self.args = args
        self.dir = directory
        self.ca = ca
        self.lock = threading.Lock()
        self.counter_file = os.path.join(args.state, 'request-id')

    def next_id(self):
        with self.lock:
            n = 0
            if os.path.exists(self.counter_file):
                with open(self.counter_file) as f:
                    n = int(f.read().strip() or 0)
            n += 1
            with open(self.counter_file + '.tmp', 'w') as f:
                f.write('%d\n' % n)
            os.rename(self.counter_file + '.tmp', self.counter_file)
            return n

    @staticmethod
    def denied(rid, hresult):
        # what certipy and others see from Windows CAs: the refusal's
        # HRESULT in pdwDisposition, and "Denied by Policy Module"
        return dict(request_id=rid, disposition=hresult,
                    message='Denied by Policy Module  0x%08x, %s' %
                    (hresult, MESSAGES.get(hresult, '')))

    def caller(self, session):
        """The caller's account if it may enroll for a machine template."""
        sids = [str(s) for s in session.security_token.sids]
        user_sid = sids[0]
        if not user_sid.startswith(self.dir.domain_sid + '-'):
            return None, 'not an account of domain %s' % self.dir.domain_sid
        groups = {'%s-%d' % (self.dir.domain_sid, r)
                  for r in (DOMAIN_RID_COMPUTERS, DOMAIN_RID_DCS)}
        if not groups.intersection(sids):
            return None, 'not in Domain Computers'
        acct = self.dir.account_by_sid(user_sid)
        if acct is None:
            return None, 'no account with SID %s in AD' % user_sid
        uac = int(_str(acct, 'userAccountControl', '0'))
        classes = [str(c) for c in acct['objectClass']]
        if 'computer' not in classes or not uac & (
                UF_WORKSTATION_TRUST_ACCOUNT | UF_SERVER_TRUST_ACCOUNT):
            return None, '%s is no computer account' % user_sid
        return acct, None

    def decide(self, session, req):
        rid = self.next_id()
        attribs = icpr_ndr.blob_bytes(req['pctbAttribs'])
        text = attribs.decode('utf-16-le').rstrip('\0')
        tmpl_name = None
        for line in text.replace('\r', '\n').split('\n'):
            name, _, value = line.partition(':')
            if name.strip().lower() == 'certificatetemplate':
                tmpl_name = value.strip()
        who = '%s\\%s' % (session.info.domain_name, session.info.account_name)
        log('request %d from %s (%s): template %r' % (
            rid, who, [str(s) for s in session.security_token.sids][0],
            tmpl_name))
        acct, why = self.caller(session)
        if acct is None:
            log('request %d denied: %s' % (rid, why))
            return self.denied(rid, CERTSRV_E_TEMPLATE_DENIED)
        if not tmpl_name:
            return self.denied(rid, CERTSRV_E_NO_CERT_TYPE)
        svc = self.dir.enrollment_service(self.args.ca_name)
        offered = [str(t).lower() for t in svc.get('certificateTemplates',
                                                   [])] if svc else []
        tmpl = self.dir.template(tmpl_name)
        if tmpl_name.lower() not in offered or tmpl is None:
            return self.denied(rid, CERTSRV_E_UNSUPPORTED_CERT_TYPE)
        try:
            csr = x509.load_der_x509_csr(icpr_ndr.blob_bytes(
                req['pctbRequest']))
            good = csr.is_signature_valid
        except ValueError:
            good = False
        if not good:
            return self.denied(rid, NTE_BAD_SIGNATURE)
        enroll = int(_str(tmpl, 'msPKI-Enrollment-Flag', '0'))
        if enroll & CT_FLAG_PEND_ALL_REQUESTS:
            log('request %d taken under submission' % rid)
            return dict(request_id=rid, disposition=5,
                        message='Taken Under Submission')
        dns_name = _str(acct, 'dNSHostName')
        if not dns_name:
            return self.denied(rid, CERTSRV_E_SUBJECT_DNS_REQUIRED)
        sid = str(self.dir.db.schema_format_value(
            'objectSid', acct['objectSid'][0]), 'ascii')
        der, chain = self.ca.issue(csr, tmpl, dns_name, sid)
        log('request %d issued for %s (%s)' % (rid, dns_name, sid))
        return dict(request_id=rid, disposition=3, message='Issued',
                    encoded_cert=der, cert=chain)

    def answer(self, session, stub):
        req = icpr_ndr.decode_request(stub)
        flags = req['dwFlags']
        authority = req['pwszAuthority']
        authority = None if authority in (None, icpr_ndr.NULL) \
            else str(authority).rstrip('\0')
        attribs = icpr_ndr.blob_bytes(req['pctbAttribs'])
        # [MS-ICPR] 3.2.4.1.1: cb must be the string's length with NUL
        nul = attribs.find(b'\0\0')
        while nul >= 0 and nul % 2:
            nul = attribs.find(b'\0\0', nul + 1)
        if attribs and (nul < 0 or nul + 2 != len(attribs)):
            return dict(request_id=0, disposition=0, error=E_INVALIDARG)
        if authority is None or authority.lower() != \
                self.args.ca_name.lower():
            return dict(request_id=0, disposition=0, error=E_INVALIDARG)
        if (flags & icpr_ndr.CR_IN_FORMATMASK) not in (
                0, icpr_ndr.CR_IN_PKCS10):
            return self.denied(self.next_id(), E_INVALIDARG)
        override = self.args.override
        if override and os.path.exists(override):
            with open(override) as f:
                o = json.load(f)
            os.unlink(override)
            log('answering from %s' % override)
            return dict(request_id=o.get('request_id', 0),
                        disposition=o.get('disposition', 0),
                        message=o.get('message', ''),
                        cert=base64.b64decode(o.get('cert', '')),
                        encoded_cert=base64.b64decode(
                            o.get('encoded_cert', '')),
                        error=o.get('error', 0))
        return self.decide(session, req)


# --- DCE/RPC -------------------------------------------------------------

def _syntax(s):
    return (str(s.uuid), s.if_version)


def _recv_exact(sock, n):
    buf = b''
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError()
        buf += chunk
    return buf


class Connection(socketserver.BaseRequestHandler):
    """One association: the protocol state of C706 12.6, server side."""

    def setup(self):
        self.srv = self.server.icpr
        self.iface = self.server.iface
        self.contexts = {}
        self.g = None
        self.auth = None            # (type, level, context_id)
        self.auth_done = False
        self.header_sign = False
        self.max_xmit = 4280
        self.fragments = b''

    def handle(self):
        peer = '%s:%d' % self.client_address
        try:
            while True:
                hdr = _recv_exact(self.request, 16)
                frag_length = struct.unpack_from('<H', hdr, 8)[0]
                pdu = hdr + _recv_exact(self.request, frag_length - 16)
                if not self.dispatch(pdu):
                    break
        except EOFError:
            pass
        except Exception:
            log('%s: %s' % (peer, traceback.format_exc()))

    def send(self, pkt):
        pkt.frag_length = 0
        blob = ndr_pack(pkt)
        blob = blob[:8] + struct.pack('<H', len(blob)) + blob[10:]
        if DEBUG:
            log('sent %s' % ndr_print(ndr_unpack(dcerpc.ncacn_packet, blob,
                                                 allow_remaining=True)))
        self.request.sendall(blob)

    def packet(self, ptype, call_id, payload, flags=0, auth_length=0):
        p = dcerpc.ncacn_packet()
        p.rpc_vers = 5
        p.rpc_vers_minor = 0
        p.ptype = ptype
        p.pfc_flags = flags | dcerpc.DCERPC_PFC_FLAG_FIRST | \
            dcerpc.DCERPC_PFC_FLAG_LAST
        p.drep = [dcerpc.DCERPC_DREP_LE, 0, 0, 0]
        p.frag_length = 0
        p.auth_length = auth_length
        p.call_id = call_id
        p.u = payload
        return p

    def fault(self, call_id, status, context_id=0):
        f = dcerpc.fault()
        f.alloc_hint = 24
        f.context_id = context_id
        f.cancel_count = 0
        f.flags = 0
        f.status = status
        f.reserved = 0
        f.error_and_verifier = b'\0' * 4
        self.send(self.packet(dcerpc.DCERPC_PKT_FAULT, call_id, f,
                              flags=dcerpc.DCERPC_PFC_FLAG_DID_NOT_EXECUTE))

    def dispatch(self, pdu):
        p = ndr_unpack(dcerpc.ncacn_packet, pdu, allow_remaining=True)
        if DEBUG:
            log('received %s' % ndr_print(p))
        try:
            if p.ptype == dcerpc.DCERPC_PKT_BIND:
                return self.bind(p, pdu, alter=False)
            if p.ptype == dcerpc.DCERPC_PKT_ALTER:
                return self.bind(p, pdu, alter=True)
            if p.ptype == dcerpc.DCERPC_PKT_AUTH3:
                self.auth3(p)
                return True
            if p.ptype == dcerpc.DCERPC_PKT_REQUEST:
                return self.request_pdu(p, pdu)
            if p.ptype in (dcerpc.DCERPC_PKT_CO_CANCEL,
                           dcerpc.DCERPC_PKT_ORPHANED):
                return True
            log('unexpected PDU type %d' % p.ptype)
            return False
        except Refused as e:
            log('call %d refused: %s' % (p.call_id, e))
            if p.ptype == dcerpc.DCERPC_PKT_BIND:
                # as Samba's dcesrv_core: authentication failures give
                # reason 0, "not specified"
                nak = dcerpc.bind_nak()
                nak.reject_reason = e.status if e.status < 0x10 else 0
                nak.num_versions = 0
                self.send(self.packet(dcerpc.DCERPC_PKT_BIND_NAK,
                                      p.call_id, nak))
                return False
            self.fault(p.call_id, e.status)
            # a failed alter_context or auth3 ends the association
            return p.ptype == dcerpc.DCERPC_PKT_REQUEST

    # bind and alter_context: presentation contexts and authentication
    def ack_contexts(self, ctx_list):
        acks = []
        for ctx in ctx_list:
            a = dcerpc.ack_ctx()
            transfers = [_syntax(t) for t in ctx.transfer_syntaxes]
            a.syntax = misc.ndr_syntax_id()
            a.syntax.uuid = misc.GUID('00000000-0000-0000-0000-'
                                      '000000000000')
            a.syntax.if_version = 0
            if any(t[0].startswith(BTFN_PREFIX) for t in transfers):
                a.result = dcerpc.DCERPC_BIND_ACK_RESULT_NEGOTIATE_ACK
                a.reason = 0
            elif _syntax(ctx.abstract_syntax) != self.iface:
                a.result = dcerpc.DCERPC_BIND_ACK_RESULT_PROVIDER_REJECTION
                a.reason = dcerpc.DCERPC_BIND_REASON_ASYNTAX
            elif NDR32 not in transfers:
                a.result = dcerpc.DCERPC_BIND_ACK_RESULT_PROVIDER_REJECTION
                a.reason = dcerpc.\
                    DCERPC_BIND_ACK_REASON_TRANSFER_SYNTAXES_NOT_SUPPORTED
            else:
                a.result = dcerpc.DCERPC_BIND_ACK_RESULT_ACCEPTANCE
                a.reason = 0
                a.syntax.uuid = misc.GUID(NDR32[0])
                a.syntax.if_version = NDR32[1]
                self.contexts[ctx.context_id] = self.iface
            acks.append(a)
        return acks

    def start_gensec(self, a, pfc_flags):
        if self.iface != ICPR:
            raise Refused(dcerpc.DCERPC_BIND_NAK_REASON_INVALID_AUTH_TYPE,
                          'no authentication on the endpoint mapper')
        if a.auth_type not in (dcerpc.DCERPC_AUTH_TYPE_SPNEGO,
                               dcerpc.DCERPC_AUTH_TYPE_KRB5):
            raise Refused(dcerpc.DCERPC_BIND_NAK_REASON_INVALID_AUTH_TYPE,
                          'auth type %d: Kerberos or SPNEGO only' %
                          a.auth_type)
        g = gensec.Security.start_server(
            settings={'lp_ctx': self.srv.lp,
                      'target_hostname': self.srv.host},
            auth_context=auth.AuthContext(lp_ctx=self.srv.lp))
        g.set_credentials(self.srv.creds)
        g.want_feature(gensec.FEATURE_DCE_STYLE)
        if a.auth_level >= dcerpc.DCERPC_AUTH_LEVEL_PRIVACY:
            g.want_feature(gensec.FEATURE_SEAL)
        elif a.auth_level >= dcerpc.DCERPC_AUTH_LEVEL_INTEGRITY:
            g.want_feature(gensec.FEATURE_SIGN)
        if pfc_flags & dcerpc.DCERPC_PFC_FLAG_SUPPORT_HEADER_SIGN:
            g.want_feature(gensec.FEATURE_SIGN_PKT_HEADER)
            self.header_sign = True
        g.start_mech_by_authtype(a.auth_type, a.auth_level)
        self.g = g
        self.auth = (a.auth_type, a.auth_level, a.auth_context_id)

    def update(self, a):
        if self.auth != (a.auth_type, a.auth_level, a.auth_context_id):
            raise Refused(dcerpc.DCERPC_BIND_NAK_REASON_INVALID_AUTH_TYPE,
                          'authentication changed within the association')
        try:
            done, token = self.g.update(a.credentials)
        except Exception as e:
            raise Refused(dcerpc.DCERPC_FAULT_ACCESS_DENIED,
                          'authentication failed: %s' % e)
        if done:
            self.auth_done = True
            si = self.g.session_info()
            log('authenticated %s\\%s (auth type %d, level %d)' % (
                si.info.domain_name, si.info.account_name, self.auth[0],
                self.auth[1]))
        return token

    def auth_blob(self, token):
        t, level, ctx = self.auth
        a = dcerpc.auth()
        a.auth_type = t
        a.auth_level = level
        a.auth_pad_length = 0
        a.auth_reserved = 0
        a.auth_context_id = ctx
        a.credentials = token
        return ndr_pack(a)

    def bind(self, p, pdu, alter):
        b = p.u
        token = None
        if p.auth_length:
            a = ndr_unpack(dcerpc.auth, b.auth_info)
            if self.g is None:
                self.start_gensec(a, p.pfc_flags)
            token = self.update(a)
        ack = dcerpc.bind_ack()
        self.max_xmit = min(b.max_recv_frag, 5840)
        ack.max_xmit_frag = self.max_xmit
        ack.max_recv_frag = min(b.max_xmit_frag, 5840)
        ack.assoc_group_id = b.assoc_group_id or self.srv.new_assoc()
        ack.secondary_address = '' if alter else str(self.server.port)
        ack.secondary_address_size = 0 if alter else \
            len(ack.secondary_address) + 1
        acks = self.ack_contexts(b.ctx_list)
        ack.num_results = len(acks)     # first: it sizes the array
        ack.ctx_list = acks
        ack.auth_info = b''
        auth_length = 0
        if token is not None:
            ack.auth_info = self.auth_blob(token)
            auth_length = len(token)
        flags = p.pfc_flags & dcerpc.DCERPC_PFC_FLAG_SUPPORT_HEADER_SIGN \
            if self.header_sign else 0
        ptype = dcerpc.DCERPC_PKT_ALTER_RESP if alter else \
            dcerpc.DCERPC_PKT_BIND_ACK
        self.send(self.packet(ptype, p.call_id, ack, flags=flags,
                              auth_length=auth_length))
        return True

    def auth3(self, p):
        a = ndr_unpack(dcerpc.auth, p.u.auth_info)
        self.update(a)

    # requests
    def request_pdu(self, p, pdu):
        r = p.u
        if r.context_id not in self.contexts:
            raise Refused(dcerpc.DCERPC_NCA_S_UNKNOWN_IF,
                          'context %d not bound' % r.context_id)
        stub = self.unprotect(p, pdu)
        if p.pfc_flags & dcerpc.DCERPC_PFC_FLAG_FIRST:
            self.fragments = b''
        self.fragments += stub
        if len(self.fragments) > 4 * 1024 * 1024:
            raise Refused(dcerpc.DCERPC_FAULT_OTHER, 'request too large')
        if not p.pfc_flags & dcerpc.DCERPC_PFC_FLAG_LAST:
            return True
        stub, self.fragments = self.fragments, b''
        stub = self.verification_trailer(p, stub)
        if self.iface == EPM:
            out = self.srv.epm_map(r.opnum, stub)
        else:
            out = self.icpr_call(r.opnum, stub)
        self.respond(p.call_id, r.context_id, out)
        return True

    def verification_trailer(self, p, stub):
        """[MS-RPCE] 2.2.2.13: check and strip the client's trailer."""
        start = max(0, len(stub) - dcerpc.DCERPC_SEC_VT_MAX_SIZE)
        ofs = stub.rfind(VT_MAGIC, start)
        while ofs >= 0 and ofs % 4:
            ofs = stub.rfind(VT_MAGIC, start, ofs)
        if ofs < 0:
            return stub
        vt = ndr_unpack(dcerpc.sec_verification_trailer, stub[ofs:])
        r = p.u
        for c in vt.commands:
            cmd = c.command & dcerpc.DCERPC_SEC_VT_COMMAND_ENUM
            if cmd == dcerpc.DCERPC_SEC_VT_COMMAND_PCONTEXT:
                ok = (_syntax(c.u.abstract_syntax) == self.iface and
                      _syntax(c.u.transfer_syntax) == NDR32)
            elif cmd == dcerpc.DCERPC_SEC_VT_COMMAND_HEADER2:
                h = c.u
                ok = (h.ptype == dcerpc.DCERPC_PKT_REQUEST and
                      h.call_id == p.call_id and
                      h.context_id == r.context_id and h.opnum == r.opnum)
            else:
                ok = cmd == dcerpc.DCERPC_SEC_VT_COMMAND_BITMASK1 or \
                    not c.command & dcerpc.DCERPC_SEC_VT_MUST_PROCESS
            if not ok:
                raise Refused(dcerpc.DCERPC_FAULT_ACCESS_DENIED,
                              'verification trailer command %d does not '
                              'match the call' % cmd)
        return stub[:ofs]

    def unprotect(self, p, pdu):
        r = p.u
        ofs_stub = dcerpc.DCERPC_REQUEST_LENGTH
        if p.pfc_flags & dcerpc.DCERPC_PFC_FLAG_OBJECT_UUID:
            ofs_stub += 16
        if self.g is None or not self.auth_done:
            if p.auth_length:
                raise Refused(dcerpc.DCERPC_FAULT_ACCESS_DENIED,
                              'request authenticated without a bind')
            if self.iface == ICPR:
                raise Refused(dcerpc.DCERPC_FAULT_ACCESS_DENIED,
                              'anonymous request')
            return r.stub_and_verifier
        if p.auth_length == 0:
            raise Refused(dcerpc.DCERPC_FAULT_ACCESS_DENIED,
                          'unprotected request on a secured association')
        ofs_sig = p.frag_length - p.auth_length
        ofs_trailer = ofs_sig - dcerpc.DCERPC_AUTH_TRAILER_LENGTH
        a = ndr_unpack(dcerpc.auth, pdu[ofs_trailer:])
        if (a.auth_type, a.auth_level, a.auth_context_id) != self.auth:
            raise Refused(dcerpc.DCERPC_FAULT_ACCESS_DENIED,
                          'auth trailer does not match the bind')
        length = ofs_trailer - ofs_stub
        sig = pdu[ofs_sig:]
        if a.auth_level == dcerpc.DCERPC_AUTH_LEVEL_PRIVACY:
            data = self.srv.pp.unseal(self.g, pdu, ofs_stub, length,
                                      ofs_sig, sig)
        else:
            data = pdu[ofs_stub:ofs_trailer]
            try:
                self.g.check_packet(data, pdu[:ofs_sig], sig)
            except Exception as e:
                raise Refused(dcerpc.DCERPC_FAULT_SEC_PKG_ERROR,
                              'bad signature: %s' % e)
        if a.auth_pad_length > length:
            raise Refused(dcerpc.DCERPC_FAULT_OTHER, 'bad padding')
        return data[:length - a.auth_pad_length]

    def icpr_call(self, opnum, stub):
        if opnum != icpr_ndr.OPNUM_CERT_SERVER_REQUEST:
            raise Refused(dcerpc.DCERPC_FAULT_OP_RNG_ERROR,
                          'opnum %d' % opnum)
        # IF_ENFORCEENCRYPTICERTREQUEST: privacy or nothing
        if self.auth[1] != dcerpc.DCERPC_AUTH_LEVEL_PRIVACY:
            raise Refused(dcerpc.DCERPC_FAULT_ACCESS_DENIED,
                          'auth level %d: packet privacy required' %
                          self.auth[1])
        n = self.srv.capture_stub('req', stub)
        try:
            ans = self.srv.policy.answer(self.g.session_info(), stub)
        except Exception:
            log(traceback.format_exc())
            raise Refused(dcerpc.DCERPC_FAULT_NDR, 'bad request stub')
        out = icpr_ndr.encode_response(
            ans.get('request_id', 0), ans.get('disposition', 0),
            cert=ans.get('cert', b''),
            encoded_cert=ans.get('encoded_cert', b''),
            message=ans.get('message', ''), error=ans.get('error', 0))
        self.srv.capture_stub('rsp', out, n)
        return out

    def respond(self, call_id, context_id, stub):
        sealed = self.g is not None and self.auth_done and \
            self.auth[1] >= dcerpc.DCERPC_AUTH_LEVEL_INTEGRITY
        sig_size = self.srv.pp.sig_size(self.g, 16) if sealed else 0
        room = self.max_xmit - dcerpc.DCERPC_RESPONSE_LENGTH
        if sealed:
            room -= dcerpc.DCERPC_AUTH_TRAILER_LENGTH + sig_size
            room -= room % dcerpc.DCERPC_AUTH_PAD_ALIGNMENT
        offset = 0
        while True:
            chunk = stub[offset:offset + room]
            flags = 0
            if offset == 0:
                flags |= dcerpc.DCERPC_PFC_FLAG_FIRST
            if offset + len(chunk) >= len(stub):
                flags |= dcerpc.DCERPC_PFC_FLAG_LAST
            self.send_response(call_id, context_id, chunk,
                               len(stub) - offset, flags, sealed)
            offset += len(chunk)
            if offset >= len(stub):
                break

    def send_response(self, call_id, context_id, chunk, alloc_hint, flags,
                      sealed):
        r = dcerpc.response()
        r.alloc_hint = alloc_hint
        r.context_id = context_id
        r.cancel_count = 0
        r.reserved = 0
        if not sealed:
            r.stub_and_verifier = chunk
            # the packet takes a copy of r: r is complete before it
            p = self.packet(dcerpc.DCERPC_PKT_RESPONSE, call_id, r)
            p.pfc_flags = flags
            self.send(p)
            return
        pad = -len(chunk) % dcerpc.DCERPC_AUTH_PAD_ALIGNMENT
        body = chunk + b'\0' * pad
        sig_size = self.srv.pp.sig_size(self.g, len(body))
        t, level, ctx = self.auth
        a = dcerpc.auth()
        a.auth_type = t
        a.auth_level = level
        a.auth_pad_length = pad
        a.auth_reserved = 0
        a.auth_context_id = ctx
        a.credentials = b'\0' * sig_size
        r.stub_and_verifier = body + ndr_pack(a)
        p = self.packet(dcerpc.DCERPC_PKT_RESPONSE, call_id, r,
                        auth_length=sig_size)
        p.pfc_flags = flags
        blob = ndr_pack(p)
        blob = blob[:8] + struct.pack('<H', len(blob)) + blob[10:]
        ofs_sig = len(blob) - sig_size
        ofs = dcerpc.DCERPC_RESPONSE_LENGTH
        if level == dcerpc.DCERPC_AUTH_LEVEL_PRIVACY:
            blob, sig = self.srv.pp.seal(self.g, blob, ofs, len(body),
                                         ofs_sig)
        else:
            sig = self.g.sign_packet(blob[ofs:ofs + len(body)],
                                     blob[:ofs_sig])
        if len(sig) != sig_size:
            raise Refused(dcerpc.DCERPC_FAULT_SEC_PKG_ERROR,
                          'signature of %d bytes, not %d' % (len(sig),
                                                              sig_size))
        self.request.sendall(blob[:ofs_sig] + sig)


class Listener(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, icpr, addr, iface):
        self.icpr = icpr
        self.iface = iface
        self.port = addr[1]
        super().__init__(addr, Connection)


class Server:
    def __init__(self, args):
        self.args = args
        self.host = args.host
        self.lp = LoadParm()
        self.lp.load(args.configfile)
        with open(args.password_file) as f:
            password = f.read().strip()
        self.creds = credentials.Credentials()
        self.creds.guess(self.lp)
        self.creds.set_username(args.account)
        self.creds.set_password(password)
        self.creds.set_realm(self.lp.get('realm'))
        self.creds.set_domain(self.lp.get('workgroup'))
        self.creds.set_secure_channel_type(SEC_CHAN_WKSTA)
        self.creds.set_kerberos_state(credentials.MUST_USE_KERBEROS)
        self.pp = PacketProtection()
        self.assoc = 0x5100
        self.lock = threading.Lock()
        self.capture_n = 0
        directory = Directory(self.lp, self.creds, args.dc)
        self.policy = Policy(args, directory, CA(args.ca_cert, args.ca_key))

    def new_assoc(self):
        with self.lock:
            self.assoc += 1
            return self.assoc

    def capture_stub(self, kind, stub, n=None):
        if not self.args.capture:
            return None
        with self.lock:
            if n is None:
                self.capture_n += 1
                n = self.capture_n
        with open(os.path.join(self.args.capture, '%s-%d.ndr' % (kind, n)),
                  'wb') as f:
            f.write(stub)
        return n

    def epm_map(self, opnum, stub):
        if opnum != 3:      # epm_Map
            raise Refused(dcerpc.DCERPC_FAULT_OP_RNG_ERROR,
                          'epmapper opnum %d' % opnum)
        m = epmapper.epm_Map()
        m.__ndr_unpack_in__(stub)
        m.out_entry_handle = m.in_entry_handle
        m.out_num_towers = 0
        m.out_towers = []
        m.result = EPMAPPER_STATUS_NO_MORE_ENTRIES
        tower = m.in_map_tower.tower if m.in_map_tower else None
        floors = tower.floors if tower else []
        if (len(floors) >= 5 and
                floors[0].lhs.protocol == epmapper.EPM_PROTOCOL_UUID and
                str(misc.GUID(floors[0].lhs.lhs_data[:16])) == ICPR[0] and
                floors[3].lhs.protocol == epmapper.EPM_PROTOCOL_TCP):
            floors[3].rhs.port = self.args.port
            floors[4].rhs.ipaddr = self.args.listen
            tower.floors = floors
            twr = epmapper.epm_twr_t()
            twr.tower = tower
            ptr = epmapper.epm_twr_p_t()
            ptr.twr = twr
            m.out_towers = [ptr]
            m.out_num_towers = 1
            m.result = 0
        log('epm_Map: %s' % ('port %d' % self.args.port
                             if m.out_num_towers else 'not registered'))
        return m.__ndr_pack_out__()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--configfile', required=True)
    ap.add_argument('--listen', required=True, help='IPv4 address')
    ap.add_argument('--port', type=int, required=True,
                    help='ICertPassage port (the endpoint mapper is 135)')
    ap.add_argument('--epm-port', type=int, default=135)
    ap.add_argument('--host', required=True, help="the CA's DNS name")
    ap.add_argument('--account', required=True, help='CA host NAME$')
    ap.add_argument('--password-file', required=True)
    ap.add_argument('--dc', required=True)
    ap.add_argument('--ca-name', required=True)
    ap.add_argument('--ca-cert', required=True)
    ap.add_argument('--ca-key', required=True)
    ap.add_argument('--state', required=True)
    ap.add_argument('--capture')
    ap.add_argument('--override')
    ap.add_argument('--pidfile')
    args = ap.parse_args()
    if not args.listen.startswith('127.'):
        sys.exit('icpr_server: loopback addresses only')
    srv = Server(args)
    listeners = [Listener(srv, (args.listen, args.epm_port), EPM),
                 Listener(srv, (args.listen, args.port), ICPR)]
    for lst in listeners[:-1]:
        threading.Thread(target=lst.serve_forever, daemon=True).start()
    if args.pidfile:
        with open(args.pidfile + '.tmp', 'w') as f:
            f.write('%d\n' % os.getpid())
        os.rename(args.pidfile + '.tmp', args.pidfile)
    log('CA %s on %s: epmapper %d, ICertPassage %d' % (
        args.ca_name, args.listen, args.epm_port, args.port))
    listeners[-1].serve_forever()


if __name__ == '__main__':
    main()
