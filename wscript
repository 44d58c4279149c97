#!/usr/bin/env python3
# samba-odj build: a plain waf wscript (not Samba's wafsamba), linking only
# Samba's public libraries found with pkg-config.  pidl and the Samba IDLs
# come from the source package that buildtools/bootstrap fetched.

import os
import subprocess

from waflib import Task, TaskGen, Utils

APPNAME = 'samba-odj'
VERSION = '0.1.0'

top = '.'
out = 'bin/default'

# source/lib/<layer>/ -> libodj_<layer>.a, and the layers each may call
LIB_LAYERS = [
    ('util', []),
    ('codec', ['util']),
    ('client', ['codec', 'util']),
    ('dc', ['codec', 'util']),
]

# (pkg-config name, waf uselib name)
PUBLIC_PACKAGES = [
    ('talloc', 'TALLOC'),
    ('tevent', 'TEVENT'),
    ('tdb', 'TDB'),
    ('ldb', 'LDB'),
    ('samba-util', 'SAMBA_UTIL'),
    ('ndr', 'NDR'),
    ('ndr_standard', 'NDR_STANDARD'),
    ('ndr_nbt', 'NDR_NBT'),
    ('dcerpc', 'DCERPC'),
    ('samba-credentials', 'SAMBA_CREDENTIALS'),
    ('samba-hostconfig', 'SAMBA_HOSTCONFIG'),
    ('smbclient', 'SMBCLIENT'),
    ('popt', 'POPT'),
    ('mit-krb5', 'KRB5'),
    ('gnutls', 'GNUTLS'),
    ('jansson', 'JANSSON'),
]

WARNINGS = ['-Wall', '-Wextra', '-Wno-unused-parameter',
            '-Wno-missing-field-initializers', '-Wshadow',
            '-Wstrict-prototypes', '-Wmissing-prototypes',
            '-Werror=implicit-function-declaration',
            '-Werror=format-security']


def options(opt):
    opt.load('compiler_c')
    opt.add_option('--sanitize', action='store_true', default=False,
                   help='build with AddressSanitizer and '
                        'UndefinedBehaviorSanitizer')
    opt.add_option('--werror', action='store_true', default=False,
                   help='treat warnings in our own code as errors')
    opt.add_option('--fuzz', action='store_true', default=False,
                   help='build the libFuzzer harnesses (needs CC=clang)')


def configure(conf):
    conf.load('compiler_c')
    for pkg, uselib in PUBLIC_PACKAGES:
        conf.check_cfg(package=pkg, uselib_store=uselib,
                       args=['--cflags', '--libs'])
    # nt_errstr() and friends: a public library without a .pc file
    # tevent_req_nterror() and friends: public, no .pc file either
    conf.check_cc(lib='tevent-util', uselib_store='TEVENT_UTIL',
                  msg='Checking for libtevent-util')
    conf.check_cc(lib='resolv', uselib_store='RESOLV',
                  msg='Checking for libresolv')
    conf.check_cc(lib='samba-errors', uselib_store='SAMBA_ERRORS',
                  msg='Checking for libsamba-errors')
    conf.check_cfg(package='cmocka', uselib_store='CMOCKA',
                   args=['--cflags', '--libs'])

    src = conf.path.find_dir('bin/samba-src')
    if src is None or src.find_node('pidl/pidl') is None:
        conf.fatal('Samba source tree missing; run buildtools/bootstrap')
    conf.env.SAMBA_SRC = src.abspath()
    conf.find_program('perl', var='PERL')
    conf.find_program('xsltproc', var='XSLTPROC', mandatory=False)

    conf.env.append_value('CFLAGS', ['-std=gnu11', '-g', '-O2',
                                     '-fno-strict-aliasing'])
    conf.env.append_value('DEFINES', ['_GNU_SOURCE=1'])
    conf.env.WARNINGS = WARNINGS
    if conf.options.werror:
        conf.env.WARNINGS = WARNINGS + ['-Werror']
    if conf.options.sanitize:
        san = ['-fsanitize=address,undefined',
               '-fno-sanitize-recover=undefined',
               '-fno-omit-frame-pointer']
        conf.env.append_value('CFLAGS', san)
        conf.env.append_value('LINKFLAGS', san)
        conf.env.append_value('DEFINES', ['ODJ_SANITIZE=1'])
    conf.env.SANITIZE = conf.options.sanitize
    if conf.options.fuzz:
        fuzz = ['-fsanitize=fuzzer-no-link,address,undefined',
                '-fno-sanitize-recover=undefined',
                '-fno-omit-frame-pointer']
        conf.env.append_value('CFLAGS', fuzz)
        conf.env.append_value('LINKFLAGS', ['-fsanitize=address,undefined'])
    conf.env.FUZZ = conf.options.fuzz


class pidl(Task.Task):
    color = 'BLUE'
    # pidl switches to Samba's in-tree include style when run inside a
    # tree holding source4/ or include/smb.h: run it in the build dir.

    def run(self):
        env = self.env
        outdir = self.outputs[0].parent.abspath()
        os.makedirs(outdir, exist_ok=True)
        cmd = [env.PERL[0] if isinstance(env.PERL, list) else env.PERL,
               os.path.join(env.SAMBA_SRC, 'pidl', 'pidl'),
               '--quiet',
               '--includedir', os.path.join(env.SAMBA_SRC, 'librpc', 'idl'),
               '--includedir', self.inputs[0].parent.abspath(),
               '--outputdir', outdir] + self.generator.pidl_args + \
              ['--', self.inputs[0].abspath()]
        penv = dict(os.environ)
        penv['PERL5LIB'] = os.path.join(env.SAMBA_SRC, 'pidl', 'lib')
        proc = subprocess.run(cmd, cwd=os.path.dirname(outdir), env=penv,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        # subcontext() is how pidl spells type serialization headers
        for line in proc.stdout.splitlines():
            if 'subcontext() is deprecated' not in line:
                print(line)
        return proc.returncode


@TaskGen.feature('cprogram')
@TaskGen.after_method('apply_link', 'process_use', 'propagate_uselib_vars')
def whole_archive_once(self):
    """With --whole-archive each static library may appear only once on
    the link line: waf lists a layer again for every layer above it."""
    if 'STLIB_MARKER' not in self.env or not hasattr(self, 'link_task'):
        return
    if '-Wl,--whole-archive' not in self.env.STLIB_MARKER:
        return
    seen = []
    for lib in self.link_task.env.STLIB:
        if lib not in seen:
            seen.append(lib)
    self.link_task.env.STLIB = seen


@TaskGen.feature('pidl')
def process_pidl(self):
    idl = self.path.find_resource(self.idl)
    outs = [self.path.find_or_declare(o) for o in self.pidl_outputs]
    self.create_task('pidl', idl, outs)


def build(bld):
    gen_inc = ['gen', 'source/include', 'source/lib', '.']

    # our ODJ IDL: headers and NDR marshallers
    bld(features='pidl', idl='idl/odj.idl', name='pidl-odj',
        pidl_args=['--header', '--ndr-parser'],
        pidl_outputs=['gen/gen_ndr/odj.h', 'gen/gen_ndr/ndr_odj.h',
                      'gen/gen_ndr/ndr_odj.c'])

    # Samba's secrets.tdb join record, from our own wire-identical IDL
    bld(features='pidl', idl='idl/secrets.idl', name='pidl-secrets',
        pidl_args=['--header', '--ndr-parser'],
        pidl_outputs=['gen/gen_ndr/secrets.h', 'gen/gen_ndr/ndr_secrets.h',
                      'gen/gen_ndr/ndr_secrets.c'])

    # MS-DTYP self-relative security descriptors (nTSecurityDescriptor's
    # owner), for the account-reuse guard on the DC side
    bld(features='pidl', idl='idl/security_descriptor.idl', name='pidl-sd',
        pidl_args=['--header', '--ndr-parser'],
        pidl_outputs=['gen/gen_ndr/security_descriptor.h',
                      'gen/gen_ndr/ndr_security_descriptor.h',
                      'gen/gen_ndr/ndr_security_descriptor.c'])

    # Generated symbols stay hidden: Samba's private libndr-samba4
    # exports ndr_*_ODJ_* and ndr_*_secrets_* of its own.  The ODJ
    # structures belong to the codec, the secrets.tdb record to the
    # client, security descriptors to the DC side.
    for idl, layer in (('odj', 'codec'), ('secrets', 'client'),
                       ('security_descriptor', 'dc')):
        bld.objects(source=['gen/gen_ndr/ndr_%s.c' % idl],
                    target='odj-ndr-' + layer,
                    includes=gen_inc,
                    cflags=['-fvisibility=hidden', '-fPIC',
                            '-Wno-unused-but-set-variable'],
                    use='NDR TALLOC SAMBA_UTIL')

    ext_use = ('NDR NDR_STANDARD NDR_NBT TALLOC TEVENT TDB LDB '
               'SAMBA_UTIL SAMBA_ERRORS DCERPC SAMBA_CREDENTIALS '
               'SAMBA_HOSTCONFIG SMBCLIENT KRB5 GNUTLS JANSSON RESOLV '
               'TEVENT_UTIL')

    # The library by side, one static library per folder: util (small
    # helpers), codec (the blob and the formats inside it), client (the
    # joining machine), dc (talking to domain controllers).
    for layer, below in LIB_LAYERS:
        ndr = {'codec': 'odj-ndr-codec ', 'client': 'odj-ndr-client ',
               'dc': 'odj-ndr-dc '}
        bld.stlib(source=bld.path.ant_glob('source/lib/%s/*.c' % layer),
                  target='odj_' + layer,
                  includes=gen_inc,
                  cflags=bld.env.WARNINGS + ['-fvisibility=hidden',
                                             '-fPIC'],
                  use=ndr.get(layer, '') +
                  ' '.join('odj_' + b for b in below) + ' ' + ext_use)
    client_use = 'odj_client odj_codec odj_util POPT ' + ext_use
    all_use = 'odj_dc ' + client_use

    # The programs link every object of their layers (--whole-archive),
    # so that a call from a layer into one it may not use (client code
    # into DC code) is an undefined reference, not a silent no-op until
    # some command reaches it.
    whole = bld.env.derive()
    whole.STLIB_MARKER = ['-Wl,-Bstatic', '-Wl,--whole-archive']
    whole.SHLIB_MARKER = ['-Wl,--no-whole-archive', '-Wl,-Bdynamic']

    # Two programs from one command line.  odj-dc talks to DCs and links
    # everything.  odj is what a joining machine runs: source/cli without
    # its dc/ folder and the library without its DC side, and
    # --as-needed drops the libraries only the DC side uses (LDAP,
    # credentials, SMB: ~120 objects to load), so it starts fast.  For
    # provision it runs odj-dc (source/cli/dc_exec.c).
    cli_sources = bld.path.ant_glob('source/cli/*.c',
                                    excl=['source/cli/dc_exec.c'])
    dc_cli_sources = bld.path.ant_glob('source/cli/dc/*.c')
    libexecdir = os.path.join(bld.env.PREFIX, 'libexec', 'samba-odj')
    bld.program(source=cli_sources + ['source/cli/dc_exec.c'],
                target='odj',
                includes=gen_inc + ['source/cli'],
                cflags=bld.env.WARNINGS,
                defines=['ODJ_LIBEXECDIR="%s"' % libexecdir],
                linkflags=['-Wl,--as-needed'],
                env=whole,
                use=client_use)
    bld.program(source=cli_sources + dc_cli_sources,
                target='odj-dc',
                includes=gen_inc + ['source/cli'],
                cflags=bld.env.WARNINGS,
                install_path=libexecdir,
                env=whole,
                use=all_use)

    for t in bld.path.ant_glob('testsuite/unit/test_*.c'):
        name = os.path.splitext(t.name)[0]
        bld.program(source=[t],
                    target='testsuite/' + name,
                    includes=gen_inc + ['testsuite/unit'],
                    cflags=bld.env.WARNINGS,
                    defines=['SRCDIR="%s"' % bld.path.abspath()],
                    use='CMOCKA ' + all_use,
                    install_path=None)

    for t in bld.path.ant_glob('testsuite/fuzz/fuzz_*.c'):
        if not bld.env.FUZZ:
            break
        name = os.path.splitext(t.name)[0]
        bld.program(source=[t],
                    target='testsuite/' + name,
                    includes=gen_inc,
                    cflags=bld.env.WARNINGS,
                    linkflags=['-fsanitize=fuzzer'],
                    use=all_use,
                    install_path=None)

    if bld.env.XSLTPROC:
        bld(rule='${XSLTPROC} --nonet --xinclude -o ${TGT} '
                 '/usr/share/xml/docbook/stylesheet/docbook-xsl/'
                 'manpages/docbook.xsl ${SRC}',
            source='docs/odj.8.xml', target='docs/odj.8',
            # docbook-xsl chatters on stderr about every page
            quiet=True)
