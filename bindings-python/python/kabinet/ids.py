"""Russian identifiers (R21): validate and normalize; raise ValidationError otherwise."""

from ._kabinet import ids_enp as enp
from ._kabinet import ids_inn as inn
from ._kabinet import ids_passport as passport
from ._kabinet import ids_phone as phone
from ._kabinet import ids_snils as snils

__all__ = ["enp", "inn", "passport", "phone", "snils"]
