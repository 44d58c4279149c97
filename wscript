#!/usr/bin/env python3
# samba-odj build: a plain waf wscript (not Samba's wafsamba), linking only
# Samba's public libraries found with pkg-config.  pidl and the Samba IDLs
# come from the source package that buildtools/bootstrap fetched, or from
# a release tarball's third_party/samba (see the install section below).

import os
import subprocess

from waflib import Context, Logs, Task, TaskGen, Utils

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
    install_options(opt)


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

    find_samba_build_tools(conf)
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
    install_configure(conf)


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

    # [MS-ICPR] ICertPassage: marshallers and the client stubs, which
    # call the public dcerpc_binding_handle_call_send()
    bld(features='pidl', idl='idl/icpr.idl', name='pidl-icpr',
        pidl_args=['--header', '--ndr-parser', '--client'],
        pidl_outputs=['gen/gen_ndr/icpr.h', 'gen/gen_ndr/ndr_icpr.h',
                      'gen/gen_ndr/ndr_icpr.c', 'gen/gen_ndr/ndr_icpr_c.h',
                      'gen/gen_ndr/ndr_icpr_c.c'])

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
    # client, the MS-ICPR client (AD CS enrollment) and security
    # descriptors (the account-reuse guard) to the DC side.
    ndr_objects = (
        ('codec', ['odj'], 'NDR TALLOC SAMBA_UTIL'),
        ('client', ['secrets'], 'NDR TALLOC SAMBA_UTIL'),
        ('dc', ['icpr', 'icpr_c', 'security_descriptor'],
         'NDR TALLOC SAMBA_UTIL DCERPC TEVENT'),
    )
    for layer, idls, use in ndr_objects:
        bld.objects(source=['gen/gen_ndr/ndr_%s.c' % i for i in idls],
                    target='odj-ndr-' + layer,
                    includes=gen_inc,
                    cflags=['-fvisibility=hidden', '-fPIC',
                            '-Wno-unused-but-set-variable'],
                    use=use)

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
        # client: where odj-gp-apply is installed (policy_apply.c)
        defines = ['ODJ_LIBEXECDIR="%s"' % bld.env.ODJ_LIBEXECDIR] \
            if layer == 'client' else []
        bld.stlib(source=bld.path.ant_glob('source/lib/%s/*.c' % layer),
                  target='odj_' + layer,
                  defines=defines,
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
    def whole():
        env = bld.env.derive()
        env.detach()
        env.STLIB_MARKER = ['-Wl,-Bstatic', '-Wl,--whole-archive']
        env.SHLIB_MARKER = ['-Wl,--no-whole-archive', '-Wl,-Bdynamic']
        return env

    # Two programs from one command line.  odj-dc talks to DCs and links
    # everything.  odj is what a joining machine runs: source/cli without
    # its dc/ folder and the library without its DC side, and
    # --as-needed drops the libraries only the DC side uses (LDAP,
    # credentials, SMB: ~120 objects to load), so it starts fast.  For
    # provision it runs odj-dc (source/cli/dc_exec.c).
    cli_sources = bld.path.ant_glob('source/cli/*.c',
                                    excl=['source/cli/dc_exec.c'])
    dc_cli_sources = bld.path.ant_glob('source/cli/dc/*.c')
    libexecdir = bld.env.ODJ_LIBEXECDIR
    bld.program(source=cli_sources + ['source/cli/dc_exec.c'],
                target='odj',
                includes=gen_inc + ['source/cli'],
                cflags=bld.env.WARNINGS,
                defines=['ODJ_LIBEXECDIR="%s"' % libexecdir,
                         'ODJ_CLIENT_ONLY'],
                linkflags=['-Wl,--as-needed'],
                env=whole(),
                use=client_use)
    # odj rodc-preload's python3-samba helper, beside odj-dc (which
    # finds it there, in the build tree as where it is installed)
    bld(rule='cp ${SRC} ${TGT} && chmod 755 ${TGT}',
        source='source/rodc/odj-rodc-preload',
        target='odj-rodc-preload')
    bld.program(source=cli_sources + dc_cli_sources,
                target='odj-dc',
                includes=gen_inc + ['source/cli'],
                cflags=bld.env.WARNINGS,
                install_path=libexecdir,
                env=whole(),
                use=all_use)
    # odj-gp-apply beside odj in the build tree, as installed beside
    # odj-dc: requestodj finds it there (policy_apply.c)
    bld(rule='cp ${SRC} ${TGT} && chmod 755 ${TGT}',
        source='source/gp/odj-gp-apply', target='odj-gp-apply',
        install_path=None)
    for t in bld.path.ant_glob('testsuite/unit/test_*.c'):
        name = os.path.splitext(t.name)[0]
        bld.program(source=[t],
                    target='testsuite/' + name,
                    includes=gen_inc + ['testsuite/unit'],
                    cflags=bld.env.WARNINGS,
                    defines=['SRCDIR="%s"' % bld.path.abspath()],
                    use='CMOCKA ' + all_use,
                    install_path=None)

    # helper programs the blackbox tests drive (not unit tests: the
    # runner takes every testsuite/test_* for one)
    for t in bld.path.ant_glob('testsuite/tools/*.c'):
        name = os.path.splitext(t.name)[0]
        bld.program(source=[t],
                    target='testsuite/' + name,
                    includes=gen_inc,
                    cflags=bld.env.WARNINGS,
                    use=all_use,
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
    install_build(bld)


# ---------------------------------------------------------------------
# Install and release (issue 18): where pidl and the Samba IDLs come from
# (a release tarball's bundled copy, else the bootstrap's Samba source),
# the version strings, what `waf install` puts where, and `waf dist`.
# ---------------------------------------------------------------------

# buildtools/dist puts Samba's pidl, waflib and IDLs here, at their paths
# in Samba's tree; the waf launcher looks here first too
BUNDLED_SAMBA = 'third_party/samba'
DOCBOOK_MAN_XSL = ('/usr/share/xml/docbook/stylesheet/docbook-xsl/'
                   'manpages/docbook.xsl')


def install_options(opt):
    # --prefix, --bindir, --libexecdir, --mandir, --docdir, ...
    opt.load('gnu_dirs')
    opt.add_option('--without-man', action='store_true', default=False,
                   help='do not build or install the man page '
                        '(no xsltproc or docbook-xsl)')


def find_samba_build_tools(conf):
    """pidl and Samba's IDLs: a release tarball's bundled copy, or in a
    git checkout the Samba source that buildtools/bootstrap fetched.  A
    tarball never falls back to the bootstrap's cache."""
    bundled = conf.path.find_dir(BUNDLED_SAMBA)
    if bundled is not None:
        src = bundled
        if src.find_node('pidl/pidl') is None:
            conf.fatal('%s is incomplete (no pidl/pidl): unpack the '
                       'release tarball again' % src.abspath())
    else:
        src = conf.path.find_dir('bin/samba-src')
        if src is None or src.find_node('pidl/pidl') is None:
            conf.fatal('Samba source tree missing; run '
                       'buildtools/bootstrap (or build from a release '
                       'tarball, which carries it)')
    conf.env.SAMBA_SRC = src.abspath()
    conf.msg('Checking for pidl and Samba\'s IDLs', conf.env.SAMBA_SRC)


def samba_version(conf):
    """The installed Samba's version (samba/version.h from samba-dev),
    with the Debian package version when there is one."""
    header = None
    for inc in conf.env.INCLUDES_SAMBA_UTIL:
        path = os.path.join(inc, 'samba', 'version.h')
        if os.path.exists(path):
            header = path
            break
    if header is None:
        conf.fatal('samba/version.h not found (samba-dev)')
    version = None
    with open(header) as f:
        for line in f:
            words = line.split()
            if (len(words) == 3 and words[0] == '#define' and
                    words[1] == 'SAMBA_VERSION_OFFICIAL_STRING'):
                version = words[2].strip('"')
    if version is None:
        conf.fatal('no SAMBA_VERSION_OFFICIAL_STRING in %s' % header)
    try:
        deb = subprocess.run(['dpkg-query', '-W', '-f', '${Version}',
                              'samba-libs'], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    except OSError:
        deb = None
    if deb is not None and deb.returncode == 0 and deb.stdout:
        return version, '%s (samba-libs %s)' % (version, deb.stdout)
    return version, version


def install_configure(conf):
    conf.load('gnu_dirs')
    conf.env.ODJ_LIBEXECDIR = os.path.join(conf.env.LIBEXECDIR, 'samba-odj')

    # odj --version: ours and the Samba we are built against
    version, described = samba_version(conf)
    conf.msg('Checking the Samba version', described)
    conf.env.append_value('DEFINES', [
        'ODJ_VERSION="%s"' % VERSION,
        'ODJ_SAMBA_VERSION="%s"' % described,
    ])
    # pidl writes code for the libndr of its own Samba release
    bundled = conf.path.find_node(BUNDLED_SAMBA + '/VERSION')
    if bundled is not None:
        pidl_from = bundled.read().strip()
        if pidl_from.split('.')[:2] != version.split('.')[:2]:
            Logs.warn('pidl is Samba %s\'s, the installed Samba is %s: '
                      'if the generated NDR code does not build, make '
                      'the tarball from a checkout bootstrapped on this '
                      'Samba (buildtools/dist)' % (pidl_from, version))

    conf.env.ODJ_MAN = not conf.options.without_man
    if conf.env.ODJ_MAN and (not conf.env.XSLTPROC or
                             not os.path.exists(DOCBOOK_MAN_XSL)):
        conf.fatal('the man page needs xsltproc and %s (Debian: xsltproc '
                   'docbook-xsl); or configure --without-man' %
                   DOCBOOK_MAN_XSL)
    if not conf.env.ODJ_MAN:
        conf.env.XSLTPROC = []


def install_build(bld):
    """odj and odj-dc install themselves (${BINDIR}, ODJ_LIBEXECDIR);
    here: the Group Policy helper, the man page, the docs, the
    examples."""
    # Group Policy from the blob, applied offline by python3-samba's
    # samba.gp extensions (requestodj runs it)
    bld.install_as('${ODJ_LIBEXECDIR}/odj-gp-apply',
                   'source/gp/odj-gp-apply', chmod=0o755)
    # odj rodc-preload's helper (python3-samba's DRS replication client),
    # beside odj-dc
    bld.install_as('${ODJ_LIBEXECDIR}/odj-rodc-preload',
                   'source/rodc/odj-rodc-preload', chmod=0o755)
    if bld.env.ODJ_MAN:
        bld.install_files('${MANDIR}/man8',
                          bld.path.find_or_declare('docs/odj.8'))
    docs = [bld.path.find_node('README')] + bld.path.ant_glob('docs/*.md')
    bld.install_files('${DOCDIR}', docs)
    # the examples name /usr/bin/odj: the installed copies name ${BINDIR}'s
    examples = []
    for src in bld.path.ant_glob('docs/examples/*'):
        tgt = bld.path.find_or_declare(src.path_from(bld.path))
        bld(rule=example_with_bindir, source=src, target=tgt)
        examples.append(tgt)
    bld.install_files('${DOCDIR}/examples', examples)


def example_with_bindir(task):
    text = task.inputs[0].read()
    odj = os.path.join(task.env.BINDIR, 'odj')
    task.outputs[0].write(text.replace('/usr/bin/odj', odj))


class ReleaseTarball(Context.Context):
    '''makes the release tarball, with the build tools (buildtools/dist)'''
    cmd = 'dist'
    fun = 'dist'


def dist(ctx):
    '''makes the release tarball, with pidl, waf and Samba's IDLs'''
    script = os.path.join(ctx.path.abspath(), 'buildtools', 'dist')
    if subprocess.call([script]) != 0:
        ctx.fatal('buildtools/dist failed')
