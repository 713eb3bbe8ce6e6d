"""Python stubs for esp's protos, generated from the repo's proto/ with Debian's
grpc_tools into a temporary folder, as an ESP SDK user would have them."""
import atexit
import os
import shutil
import sys
import tempfile

from grpc_tools import protoc

PROTO_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "proto")
_out = tempfile.mkdtemp(prefix="esp-stubs-")
atexit.register(shutil.rmtree, _out, ignore_errors=True)
_status = protoc.main(["protoc", f"-I{PROTO_DIR}", f"--python_out={_out}", f"--grpc_python_out={_out}",
                       os.path.join(PROTO_DIR, "population_structs.proto"),
                       os.path.join(PROTO_DIR, "population_service.proto"),
                       os.path.join(PROTO_DIR, "system_info_service.proto")])
if _status != 0:
    raise RuntimeError("protoc failed for proto/")
sys.path.insert(0, _out)

import population_service_pb2_grpc  # noqa: E402,F401
import population_structs_pb2  # noqa: E402,F401
import system_info_service_pb2  # noqa: E402,F401
import system_info_service_pb2_grpc  # noqa: E402,F401
