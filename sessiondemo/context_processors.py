from sessiondemo.instance import instance_name


def served_by(request):
    return {"served_by": getattr(request, "served_by", None) or instance_name(request)}
