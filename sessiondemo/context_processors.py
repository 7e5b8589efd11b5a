from sessiondemo.instance import instance_name


def served_by(request):
    return {"served_by": instance_name(request)}
