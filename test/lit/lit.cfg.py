# lit configuration for ipec's compiler tests.
import os
import sys
import lit.formats

config.name = "ipec"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".ipl", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py.in"]
config.test_source_root = os.path.join(config.ipec_src_root, "test/lit")
config.test_exec_root = os.path.join(config.ipec_obj_root, "test/lit")

config.environment["PATH"] = os.pathsep.join(
    [config.ipec_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "HOME"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

config.substitutions.append(("%ipec_src", config.ipec_src_root))
config.substitutions.append(("%keys", os.path.join(config.ipec_obj_root, "test-keys")))
config.substitutions.append(("%openssl", config.openssl))
config.substitutions.append(("%python", sys.executable))
