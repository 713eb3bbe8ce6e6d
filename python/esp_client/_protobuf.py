"""The checkpoint as espd's protobuf answer (`Accept: application/x-protobuf`, the gRPC
PopulationResponse), read with python3-protobuf when it is installed: a tenth of the
time of the JSON answer's base64 for big generations (docs/benchmarks.md).

The message classes are built here from a descriptor of the fields esp_client reads
(proto/population_structs.proto's numbers), in a pool of their own, so no generated
code is shipped and no other copy of the protos in the same process clashes."""
from __future__ import annotations

try:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
except ImportError:  # numpy alone is enough: answers then come as JSON
    descriptor_pb2 = None

PACKAGE = "esp_client.population"


def _message_classes():
    field = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(name="esp_client/population.proto", package=PACKAGE,
                                              syntax="proto3")
    candidate = file.message_type.add(name="Candidate")
    for number, name, kind in ((1, "id", field.TYPE_STRING), (2, "interpretation", field.TYPE_BYTES),
                               (3, "metrics", field.TYPE_BYTES), (4, "identity", field.TYPE_BYTES)):
        candidate.field.add(name=name, number=number, type=kind, label=field.LABEL_OPTIONAL)
    response = file.message_type.add(name="PopulationResponse")
    response.field.add(name="population", number=1, type=field.TYPE_MESSAGE, type_name=f".{PACKAGE}.Candidate",
                       label=field.LABEL_REPEATED)
    for number, name, kind in ((2, "generation_count", field.TYPE_INT32), (3, "checkpoint_id", field.TYPE_STRING),
                               (4, "evaluation_stats", field.TYPE_BYTES)):
        response.field.add(name=name, number=number, type=kind, label=field.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    descriptor = pool.FindMessageTypeByName(f"{PACKAGE}.PopulationResponse")
    if hasattr(message_factory, "GetMessageClass"):  # protobuf 4.22 and later
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


PopulationResponse = _message_classes() if descriptor_pb2 is not None else None
